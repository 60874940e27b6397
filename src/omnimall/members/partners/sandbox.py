"""The sandbox points partner: a bank's points mall played by omnimall itself, so the
points exchange can be tried end to end in the demo (docs/partners.md, "The sandbox
partner").

Everything here is the *partner's* side, and it deals with the shop only as a real
partner would, over HTTP: it receives the shop's outbound transfer requests (checking
``X-Omnimall-Signature`` with the derived outbound secret) and keeps them in its own
book (``SandboxPartnerRequest``); it answers them, and sends points in, through the
shop's signed partner API. The one shortcut: it reads its secret from the shop's
partner record instead of having it pasted in, since both run in one process.

Only on with ``settings.SANDBOX_PARTNER_ENABLED`` (the demo's default); ``omnimall
serve`` refuses to start with it on, since its console lets anyone play the partner.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from omnimall.core import outbox
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError, NotFoundError
from omnimall.core.outbox import transports
from omnimall.members.models import Partner, SandboxPartnerRequest

from . import selectors, services, signing

CODE = "sandbox-bank"
NAME = "Sandbox Bank Rewards"
# Brand points per partner point, as the demo sets them: 2 bank points buy 1 brand point,
# 1 bank point costs 10 brand points (a points mall keeps a margin both ways).
RATE_IN = "0.5"
RATE_OUT = "10"
ANSWERS = ("completed", "failed")


class SandboxPartnerOffError(NotFoundError):
    code = "sandbox_partner_off"
    message = "The sandbox partner is not enabled here."


class SandboxRequestRefusedError(DomainError):
    code = "signature_invalid"
    status = 401
    message = "The request's X-Omnimall-Signature does not match."


class SandboxRequestMalformedError(DomainError):
    code = "malformed_request"
    message = "The body is not a partner.points_transfer event."


@dataclass(frozen=True, slots=True)
class ShopReply:
    """What the shop's partner API answered the sandbox partner."""

    status: int  # 0 when no answer came
    body: dict[str, Any]
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def enabled() -> bool:
    return bool(settings.SANDBOX_PARTNER_ENABLED)


def _credentials() -> tuple[Partner, str]:
    partner = Partner.objects.filter(code=CODE).first() if enabled() else None
    if partner is None:
        raise SandboxPartnerOffError()
    return partner, signing.decrypt_secret(partner.secret_encrypted)


def receive_request(*, body: bytes, signature_header: str) -> SandboxPartnerRequest:
    """Book a transfer request the shop sent (once per transaction id)."""
    _, secret = _credentials()
    if not outbox.verify(
        secret=signing.outbound_secret(secret), body=body, header=signature_header
    ):
        raise SandboxRequestRefusedError()
    try:
        data = json.loads(body)["data"]
        fields = {
            "member_card": str(data["member"]["card_number"] or "")[:32],
            "partner_account": str(data.get("partner_account") or "")[:64],
            "partner_points": int(data["partner_points"]),
            "brand_points": int(data["brand_points"]),
            "confirm_url": str(data["confirm_url"])[:500],
        }
        transaction_id = str(data["transaction_id"])[:64]
    except (ValueError, KeyError, TypeError) as exc:
        raise SandboxRequestMalformedError() from exc
    row, _ = SandboxPartnerRequest.objects.get_or_create(
        transaction_id=transaction_id, defaults=fields
    )
    return row


def rates_today() -> dict[str, str]:
    """Brand points per bank point today, by direction (``in``, ``out``), as people write
    them ("0.5", "10"); a direction without a rate is left out."""
    partner, _ = _credentials()
    day = timezone.localdate()
    rates = {
        direction: selectors.rate_on(partner_id=partner.pk, direction=direction, day=day)
        for direction in ("in", "out")
    }
    return {direction: f"{rate.normalize():f}" for direction, rate in rates.items() if rate}


def list_requests(*, limit: int = 50) -> list[SandboxPartnerRequest]:
    return list(SandboxPartnerRequest.objects.all()[:limit])


def _call_shop(*, method: str, url: str, payload: dict[str, Any]) -> ShopReply:
    """A signed call to the shop's partner API, as the partner's own client makes it."""
    partner, secret = _credentials()
    body = json.dumps(payload).encode()
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/json",
        **signing.signed_headers(
            key_id=partner.key_id, secret=secret, method=method, path=path, body=body
        ),
    }
    reply = transports.post(url, body, headers)
    if isinstance(reply, transports.Result):
        return ShopReply(status=0, body={}, error=reply.error)
    status, content = reply
    try:
        parsed = json.loads(content) if content else {}
    except ValueError:
        parsed = {}
    return ShopReply(status=status, body=parsed if isinstance(parsed, dict) else {})


def answer_request(*, request_id: int, answer: str, shop_url: str) -> ShopReply:
    """Credit the member at the bank and confirm (``completed``), or refuse (``failed``):
    the shop then commits or releases the points it held."""
    if answer not in ANSWERS:
        raise SandboxRequestMalformedError("Answer completed or failed.")
    row = SandboxPartnerRequest.objects.filter(pk=request_id).first()
    if row is None:
        raise NotFoundError("No such request.")
    # A confirmation URL is absolute when the shop knows its public URL, else a path.
    url = urljoin(shop_url, row.confirm_url)
    reference = f"SBR-{timezone.localdate():%Y%m%d}-{secrets.token_hex(4).upper()}"
    reply = _call_shop(
        method="POST", url=url, payload={"status": answer, "partner_reference": reference}
    )
    SandboxPartnerRequest.objects.filter(pk=row.pk).update(
        answer=answer, answer_status=reply.status, answered_at=timezone.now()
    )
    return reply


def send_points_in(
    *, phone: str, partner_points: int, partner_account: str, shop_url: str
) -> ShopReply:
    """The bank's member converts bank points into brand points at the bank's mall."""
    transaction_id = f"SBR-IN-{timezone.localdate():%Y%m%d}-{secrets.token_hex(6).upper()}"
    payload: dict[str, Any] = {
        "transaction_id": transaction_id,
        "member": {"phone": phone},
        "partner_points": partner_points,
    }
    if partner_account:
        payload["partner_account"] = partner_account
    url = urljoin(shop_url, reverse("api:partner_transfers"))
    return _call_shop(method="POST", url=url, payload=payload)


def ensure_partner(*, shop_url: str, actor: Actor) -> Partner | None:
    """The demo's sandbox partner, created once with its rates; its outbound URL follows
    the address the demo serves on. None when the sandbox partner is off."""
    if not enabled():
        return None
    url = urljoin(shop_url, reverse("sandbox_partner:requests"))
    partner = Partner.objects.filter(code=CODE).first()
    if partner is None:
        partner, _ = services.create_partner(code=CODE, name=NAME, actor=actor, outbound_url=url)
    elif partner.outbound_url != url:
        partner = services.update_partner(
            partner_id=partner.pk,
            actor=actor,
            name=partner.name,
            outbound_url=url,
            inbound_daily_limit=partner.inbound_daily_limit,
            outbound_daily_limit=partner.outbound_daily_limit,
            is_active=partner.is_active,
        )
    for direction, rate in (("in", RATE_IN), ("out", RATE_OUT)):
        if not partner.rates.filter(direction=direction).exists():
            services.set_rate(
                partner_id=partner.pk,
                direction=direction,
                rate=Decimal(rate),
                valid_from=timezone.localdate(),
                actor=actor,
            )
    return partner
