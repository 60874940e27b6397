"""Outbound transfers: brand points → a partner's points, in two steps.

Reserve (``request_outbound_transfer``): one transaction — the points held
(``points.hold_points``, purpose partner), the transfer ``reserved``, and a signed
webhook to the partner written to the outbox. The partner answers later with a signed
confirmation (``confirm_transfer``): ``completed`` commits the hold (a ``transfer_out``
entry), ``failed`` releases it. ``fail_stale_transfers`` (periodic) releases transfers
whose request became a dead letter or that stayed unconfirmed for
``PARTNER_CONFIRM_HOURS`` (default 48 — longer than the outbox's ~15 hours of retries).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.core.models import OutboxMessage, OutboxState
from omnimall.core.outbox.enqueue import event_body, webhook_message, write_messages
from omnimall.members.models import (
    HoldPurpose,
    Partner,
    PartnerTransfer,
    PointsEntryKind,
    TransferDirection,
    TransferState,
)
from omnimall.members.services import points

from . import domain, selectors
from .errors import (
    DailyLimitExceededError,
    PartnerUnavailableError,
    TooFewPointsError,
    TransferNotFoundError,
    TransferStateError,
)
from .services import OUTBOUND_TOPIC, outbound_subscription
from .transfers import (
    TransferOutcome,
    document_for,
    lock_member,
    rate_for,
    replay,
    source_key,
    transfer_fingerprint,
    used_today,
)

CONFIRM_STATUSES = ("completed", "failed")


def new_transaction_id() -> str:
    """Our id for an outbound transfer (the member-centre form carries it, so a double
    submit is one transfer)."""
    return "OM" + secrets.token_hex(15)


def _confirm_url(transaction_id: str) -> str:
    path = reverse("api:partner_confirm_transfer", kwargs={"transaction_id": transaction_id})
    return f"{settings.SITE_URL}{path}"


def _enqueue_request(partner: Partner, transfer: PartnerTransfer) -> None:
    subscription = outbound_subscription(partner)
    if subscription is None or not subscription.is_active:
        raise PartnerUnavailableError(partner=partner.code)
    member = transfer.member
    dedupe_key = source_key(partner, TransferDirection.OUTBOUND, transfer.transaction_id)
    data = {
        "transaction_id": transfer.transaction_id,
        "partner": partner.code,
        "member": {"card_number": member.card_number, "phone": member.phone},
        "partner_account": transfer.partner_account,
        "partner_points": transfer.partner_points,
        "brand_points": transfer.brand_points,
        "rate": str(transfer.rate),
        "confirm_url": _confirm_url(transfer.transaction_id),
    }
    body = event_body(topic=OUTBOUND_TOPIC, data=data, dedupe_key=dedupe_key)
    write_messages(
        [
            webhook_message(
                subscription=subscription, topic=OUTBOUND_TOPIC, body=body, dedupe_key=dedupe_key
            )
        ]
    )


@transaction.atomic
def request_outbound_transfer(
    *,
    member_id: int,
    partner_id: int,
    brand_points: int,
    transaction_id: str,
    actor: Actor,
    partner_account: str = "",
    now: datetime | None = None,
) -> TransferOutcome:
    """Reserve: hold the member's points and ask the partner (through the outbox)."""
    now = now or clock.now()
    partner = Partner.objects.get(pk=partner_id)
    partner_account = partner_account.strip()[:64]
    fingerprint = transfer_fingerprint(
        {"member_id": member_id, "brand_points": brand_points}, partner_account
    )
    lock_member(member_id)
    existing = selectors.find_transfer(
        partner_id=partner.pk, direction=TransferDirection.OUTBOUND, transaction_id=transaction_id
    )
    if existing is not None:
        return replay(existing, fingerprint)
    if not partner.is_active or not partner.outbound_url:
        raise PartnerUnavailableError(partner=partner.code)
    rate = rate_for(partner, TransferDirection.OUTBOUND, now)
    quote = domain.outbound_quote(brand_points, rate)
    if quote.partner_points <= 0:
        raise TooFewPointsError(brand_points=brand_points, rate=str(rate))
    used = used_today(
        partner=partner,
        member_id=member_id,
        direction=TransferDirection.OUTBOUND,
        now=now,
        states=(TransferState.RESERVED, TransferState.COMPLETED),
    )
    if used + quote.brand_points > partner.outbound_daily_limit:
        raise DailyLimitExceededError(
            limit=partner.outbound_daily_limit, used_today=used, requested=quote.brand_points
        )
    key = source_key(partner, TransferDirection.OUTBOUND, transaction_id)
    hold = points.hold_points(
        member_id=member_id,
        points=quote.brand_points,
        source_key=f"{key}:hold",
        purpose=HoldPurpose.PARTNER,
        reference=document_for(partner, transaction_id),
        actor=actor,
        expires_at=None,
    )
    transfer = PartnerTransfer.objects.create(
        partner=partner,
        direction=TransferDirection.OUTBOUND,
        transaction_id=transaction_id,
        member_id=member_id,
        partner_account=partner_account,
        partner_points=quote.partner_points,
        brand_points=quote.brand_points,
        rate=rate,
        state=TransferState.RESERVED,
        hold=hold,
        payload_hash=fingerprint,
    )
    _enqueue_request(partner, transfer)
    return TransferOutcome(transfer=transfer, created=True)


def _finish(
    transfer: PartnerTransfer, *, status: str, actor: Actor, failure: str, reference: str
) -> None:
    """Commit or release the hold of a ``reserved`` transfer (locked by the caller)."""
    partner = transfer.partner
    key = source_key(partner, TransferDirection.OUTBOUND, transfer.transaction_id)
    if transfer.hold_id is None:  # pragma: no cover - every outbound transfer has a hold
        raise TransferStateError(transaction_id=transfer.transaction_id)
    if status == "completed":
        points.commit_hold(
            hold_id=transfer.hold_id,
            source_key=key,
            actor=actor,
            kind=PointsEntryKind.TRANSFER_OUT,
            document=document_for(partner, transfer.transaction_id),
        )
        state = TransferState.COMPLETED
    else:
        points.release_hold(hold_id=transfer.hold_id, actor=actor, reason=failure)
        state = TransferState.FAILED
    changed = PartnerTransfer.objects.filter(pk=transfer.pk, state=TransferState.RESERVED).update(
        state=state,
        failure=failure[:200],
        partner_reference=reference[:64],
        updated_at=clock.now(),
    )
    if changed != 1:  # pragma: no cover - the row lock makes this unreachable
        raise TransferStateError(transaction_id=transfer.transaction_id)
    transfer.refresh_from_db()


@transaction.atomic
def confirm_transfer(
    *, partner: Partner, transaction_id: str, status: str, partner_reference: str, actor: Actor
) -> TransferOutcome:
    """The partner's answer to an outbound transfer. Repeating the same answer returns
    the transfer unchanged; the other answer after the first → ``TransferStateError``."""
    transfer = (
        PartnerTransfer.objects.select_for_update()
        .select_related("partner")
        .filter(
            partner=partner, direction=TransferDirection.OUTBOUND, transaction_id=transaction_id
        )
        .first()
    )
    if transfer is None:
        raise TransferNotFoundError(transaction_id=transaction_id)
    wanted = TransferState.COMPLETED if status == "completed" else TransferState.FAILED
    if transfer.state == wanted:
        return TransferOutcome(transfer=transfer, created=False)
    if transfer.state != TransferState.RESERVED:
        raise TransferStateError(transaction_id=transaction_id, state=transfer.state)
    failure = "" if status == "completed" else f"partner: {partner_reference or 'failed'}"
    _finish(transfer, status=status, actor=actor, failure=failure, reference=partner_reference)
    return TransferOutcome(transfer=transfer, created=True)


def _fail_one(transfer_id: int, *, failure: str, actor: Actor) -> bool:
    with transaction.atomic():
        transfer = (
            PartnerTransfer.objects.select_for_update()
            .select_related("partner")
            .filter(pk=transfer_id, state=TransferState.RESERVED)
            .first()
        )
        if transfer is None:
            return False
        _finish(transfer, status="failed", actor=actor, failure=failure, reference="")
        return True


def fail_stale_transfers(*, now: datetime | None = None) -> int:
    """Release outbound transfers that will not be confirmed: their request to the
    partner is a dead letter, or no answer came within ``PARTNER_CONFIRM_HOURS``.
    Each in its own transaction; returns how many were failed (periodic task)."""
    now = now or clock.now()
    hours = int(getattr(settings, "PARTNER_CONFIRM_HOURS", 48))
    actor = Actor.system("partner-transfers")
    reserved = PartnerTransfer.objects.filter(
        direction=TransferDirection.OUTBOUND, state=TransferState.RESERVED
    )
    stale = list(
        reserved.filter(created_at__lt=now - timedelta(hours=hours)).values_list("pk", flat=True)
    )
    rows = reserved.values_list("partner__code", "transaction_id", "pk")
    waiting = {(code, txn): pk for code, txn, pk in rows}
    dead_keys = (
        OutboxMessage.objects.filter(
            topic=OUTBOUND_TOPIC,
            state=OutboxState.DEAD,
            payload__data__transaction_id__in=sorted({txn for _, txn in waiting}),
        ).values_list("payload__data__partner", "payload__data__transaction_id")
        if waiting
        else []
    )
    dead = [waiting[(code, txn)] for code, txn in dead_keys if (code, txn) in waiting]
    failed = 0
    for transfer_id in sorted(set(dead)):
        failed += _fail_one(transfer_id, failure="delivery to the partner failed", actor=actor)
    for transfer_id in sorted(set(stale) - set(dead)):
        failed += _fail_one(transfer_id, failure="no confirmation from the partner", actor=actor)
    return failed
