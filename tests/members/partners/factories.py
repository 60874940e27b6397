"""Partners, members with points, and a signed-request client for the partner tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from omnimall.core.actors import Actor
from omnimall.members.models import Member, Partner
from omnimall.members.partners import services, signing
from omnimall.members.services.identity import enrol_member
from tests.members.test_points_factories import give_points

ACTOR = Actor.system("tests")
TRANSFERS = "/api/v1/partners/points-transfers"
_phones = iter(range(13800000000, 13899999999, 7))


@dataclass
class PartnerKit:
    partner: Partner
    secret: str

    @property
    def code(self) -> str:
        return self.partner.code


def make_partner(
    code: str = "bank",
    *,
    rate_in: str = "0.5",
    rate_out: str = "10",
    outbound_url: str = "http://partner.test/points",
    inbound_daily_limit: int = 50_000,
    outbound_daily_limit: int = 50_000,
) -> PartnerKit:
    partner, secret = services.create_partner(
        code=code, name=code.title(), actor=ACTOR, outbound_url=outbound_url
    )
    partner = services.update_partner(
        partner_id=partner.pk,
        actor=ACTOR,
        name=partner.name,
        outbound_url=outbound_url,
        inbound_daily_limit=inbound_daily_limit,
        outbound_daily_limit=outbound_daily_limit,
        is_active=True,
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    if rate_in:
        services.set_rate(
            partner_id=partner.pk,
            direction="in",
            rate=Decimal(rate_in),
            valid_from=yesterday,
            actor=ACTOR,
        )
    if rate_out:
        services.set_rate(
            partner_id=partner.pk,
            direction="out",
            rate=Decimal(rate_out),
            valid_from=yesterday,
            actor=ACTOR,
        )
    return PartnerKit(partner=partner, secret=secret)


def make_member(*, available: int = 0, user_id: int | None = None) -> Member:
    member = enrol_member(phone=f"+86{next(_phones)}", actor=ACTOR, user_id=user_id)
    if available:
        give_points(member, available, document="test", actor=ACTOR)
    member.refresh_from_db()
    return member


def signed(
    client: Client,
    kit: PartnerKit,
    method: str,
    path: str,
    payload: Any = None,
    *,
    body: bytes | None = None,
    sign_body: bytes | None = None,
    sign_path: str | None = None,
    secret: str | None = None,
    key_id: str | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
    drop: tuple[str, ...] = (),
) -> Any:
    """Send a request signed as ``kit``'s partner; the keywords forge what tests need."""
    raw = body if body is not None else (b"" if payload is None else json.dumps(payload).encode())
    headers = signing.signed_headers(
        key_id=key_id or kit.partner.key_id,
        secret=secret or kit.secret,
        method=method,
        path=sign_path or path,
        body=raw if sign_body is None else sign_body,
        timestamp=timestamp,
        nonce=nonce,
    )
    for name in drop:
        headers.pop(name)
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, data=raw, content_type="application/json", headers=headers)


def today() -> date:
    return timezone.localdate()
