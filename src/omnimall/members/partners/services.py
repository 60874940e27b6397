"""Partners: credentials, rates, signed-request checks, nonces, merges.

Transfers themselves are in ``partners.transfers``; statements in
``partners.reconciliation``. Every change staff make is audited (never the secret).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.core.models import WebhookSubscription
from omnimall.members.models import (
    Partner,
    PartnerNonce,
    PartnerRate,
    PartnerTransfer,
    TransferDirection,
)

from . import signing
from .errors import (
    NonceReusedError,
    PartnerAuthError,
    PartnerInactiveError,
    PartnerSetupError,
    TimestampOutOfWindowError,
)

logger = logging.getLogger(__name__)

OUTBOUND_TOPIC = "partner.points_transfer"
SECRET_MASK = "(hidden)"  # noqa: S105 - what the audit trail shows instead of a secret


def window_seconds() -> int:
    return int(getattr(settings, "PARTNER_SIGNATURE_WINDOW_SECONDS", 300))


def partner_actor(partner: Partner) -> Actor:
    return Actor(kind="partner", id=partner.pk, label=f"partner:{partner.code}")


# --- credentials -------------------------------------------------------------------------


def subscription_name(code: str) -> str:
    """The outbox webhook subscription that carries our requests to partner ``code``."""
    return f"partner:{code}"


def outbound_subscription(partner: Partner) -> WebhookSubscription | None:
    return (
        WebhookSubscription.objects.filter(name=subscription_name(partner.code))
        .order_by("pk")
        .first()
    )


def _sync_subscription(partner: Partner, *, secret: str | None = None) -> None:
    """Keep the partner's webhook subscription in step with its URL, state and secret."""
    subscription = outbound_subscription(partner)
    if subscription is None and not partner.outbound_url:
        return
    if subscription is None:
        subscription = WebhookSubscription(name=subscription_name(partner.code))
    plain = secret if secret is not None else signing.decrypt_secret(partner.secret_encrypted)
    subscription.url = partner.outbound_url or subscription.url
    subscription.secret = signing.outbound_secret(plain)
    subscription.topics = [OUTBOUND_TOPIC]
    subscription.is_active = bool(partner.outbound_url) and partner.is_active
    subscription.save()


@transaction.atomic
def create_partner(
    *, code: str, name: str, actor: Actor, outbound_url: str = ""
) -> tuple[Partner, str]:
    """A new partner and its secret (returned once, stored only encrypted)."""
    code = code.strip().lower()
    if not code or Partner.objects.filter(code=code).exists():
        raise PartnerSetupError("A partner with that code exists.", code=code)
    secret = signing.new_secret()
    partner = Partner.objects.create(
        code=code,
        name=name.strip() or code,
        key_id=signing.new_key_id(),
        secret_encrypted=signing.encrypt_secret(secret),
        outbound_url=outbound_url.strip(),
    )
    _sync_subscription(partner, secret=secret)
    changes = audit.snapshot(partner)
    changes["secret_encrypted"] = SECRET_MASK
    audit.record(actor=actor, action="partner.created", subject=partner, changes=changes)
    return partner, secret


@transaction.atomic
def update_partner(
    *,
    partner_id: int,
    actor: Actor,
    name: str,
    outbound_url: str,
    inbound_daily_limit: int,
    outbound_daily_limit: int,
    is_active: bool,
    reason: str = "",
) -> Partner:
    partner = Partner.objects.select_for_update().get(pk=partner_id)
    before = audit.snapshot(partner)
    partner.name = name.strip() or partner.code
    partner.outbound_url = outbound_url.strip()
    partner.inbound_daily_limit = inbound_daily_limit
    partner.outbound_daily_limit = outbound_daily_limit
    partner.is_active = is_active
    partner.save(
        update_fields=[
            "name",
            "outbound_url",
            "inbound_daily_limit",
            "outbound_daily_limit",
            "is_active",
        ]
    )
    _sync_subscription(partner)
    audit.record(
        actor=actor,
        action="partner.changed",
        subject=partner,
        changes=audit.diff(before, audit.snapshot(partner)),
        reason=reason,
    )
    return partner


@transaction.atomic
def rotate_secret(*, partner_id: int, actor: Actor, reason: str = "") -> tuple[Partner, str]:
    """A new secret (shown once); the old one stops working at once."""
    partner = Partner.objects.select_for_update().get(pk=partner_id)
    secret = signing.new_secret()
    partner.secret_encrypted = signing.encrypt_secret(secret)
    partner.save(update_fields=["secret_encrypted"])
    _sync_subscription(partner, secret=secret)
    audit.record(
        actor=actor,
        action="partner.secret_rotated",
        subject=partner,
        changes={"secret_encrypted": [SECRET_MASK, SECRET_MASK]},
        reason=reason,
    )
    return partner, secret


@transaction.atomic
def set_rate(
    *, partner_id: int, direction: str, rate: Decimal, valid_from: date, actor: Actor
) -> PartnerRate:
    """The rate from ``valid_from`` on (replaces a rate set for that same day)."""
    if direction not in TransferDirection.values:
        raise PartnerSetupError("Unknown direction.", direction=direction)
    if rate <= 0:
        raise PartnerSetupError("A rate must be above zero.", rate=str(rate))
    partner = Partner.objects.get(pk=partner_id)
    row, created = PartnerRate.objects.update_or_create(
        partner=partner,
        direction=direction,
        valid_from=valid_from,
        defaults={"brand_points_per_partner_point": rate},
    )
    audit.record(
        actor=actor,
        action="partner.rate_set",
        subject=partner,
        changes={
            "direction": direction,
            "valid_from": valid_from.isoformat(),
            "rate": str(rate),
            "created": created,
        },
    )
    return row


# --- signed requests ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedRequest:
    method: str
    path: str  # with "?query" when there is one
    key_id: str
    timestamp: str
    nonce: str
    signature: str
    body: bytes


def _check_signature(request: SignedRequest, *, now: float | None) -> Partner:
    if not request.key_id or len(request.key_id) > 40:
        raise PartnerAuthError()
    if not signing.NONCE_PATTERN.match(request.nonce):
        raise PartnerAuthError("X-Nonce must be 16 to 64 characters [A-Za-z0-9_-].")
    if not signing.SIGNATURE_PATTERN.match(request.signature):
        raise PartnerAuthError()
    if not signing.TIMESTAMP_PATTERN.match(request.timestamp):
        raise PartnerAuthError("X-Timestamp must be unix seconds.")
    partner = Partner.objects.filter(key_id=request.key_id).first()
    if partner is None:
        raise PartnerAuthError()
    try:
        secret = signing.decrypt_secret(partner.secret_encrypted)
    except signing.SecretUnreadableError:
        logger.error("Partner %s: the stored secret does not decrypt", partner.code)
        raise PartnerAuthError() from None
    if not signing.signature_matches(
        secret=secret,
        signature=request.signature,
        method=request.method,
        path=request.path,
        timestamp=request.timestamp,
        nonce=request.nonce,
        body=request.body,
    ):
        raise PartnerAuthError()
    if not signing.within_window(
        timestamp=request.timestamp, window_seconds=window_seconds(), now=now
    ):
        raise TimestampOutOfWindowError(window_seconds=window_seconds())
    if not partner.is_active:
        raise PartnerInactiveError()
    return partner


def authenticate_request(request: SignedRequest, *, now: float | None = None) -> Partner:
    """The partner that signed ``request``; its nonce is claimed (committed) on success.

    Checked in this order, writing nothing until all pass: headers well formed, key
    known, signature, timestamp window, partner active. Only then is the nonce claimed,
    in its own short transaction (unique (partner, nonce)), *before* the request's
    effect: a request refused later (e.g. daily limit) cannot be replayed either, and a
    request refused earlier never burns a nonce. A second use → ``NonceReusedError``.
    """
    partner = _check_signature(request, now=now)
    try:
        with transaction.atomic():
            PartnerNonce.objects.create(partner=partner, nonce=request.nonce)
    except IntegrityError:
        raise NonceReusedError() from None
    return partner


def purge_nonces(*, now: datetime | None = None) -> int:
    """Forget nonces that can no longer be replayed: a request is accepted while its
    timestamp is within ±window of the clock, so a nonce seen at s is dangerous until
    s + 2 × window. Returns how many were deleted (hourly task)."""
    cutoff = (now or clock.now()) - timedelta(seconds=2 * window_seconds())
    deleted, _ = PartnerNonce.objects.filter(seen_at__lt=cutoff).delete()
    return deleted


def reassign_member(*, from_member_id: int, to_member_id: int) -> None:
    """Move a merged member's partner transfers to the survivor (inside the merge's
    transaction; the points themselves move with the ledger)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reassign_member runs inside the merge's transaction")
    PartnerTransfer.objects.filter(member_id=from_member_id).update(member_id=to_member_id)
