"""Helpers for the points tests (no tests here): members made directly, as rows."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime

from omnimall.core.actors import Actor
from omnimall.members.models import Member, PointsEntry, Tier
from omnimall.members.services import points as points_services

ACTOR = Actor.system("points-tests")
_n = itertools.count(1)


def make_member(**fields: object) -> Member:
    """A bare member with empty balances (the points services give it points)."""
    n = next(_n)
    tier = Tier.objects.order_by("rank").first()
    if tier is None:
        tier = Tier.objects.create(code="standard", name_en="Standard", name_zh="普通", rank=0)
    values: dict[str, object] = {
        "phone": f"+86139{n:08d}",
        "card_number": f"9{n:011d}",
        "tier": tier,
    }
    values.update(fields)
    return Member.objects.create(**values)


def give_points(
    member: Member,
    points: int,
    source_key: str | None = None,
    *,
    document: str | None = None,
    pending: bool = False,
    actor: Actor = ACTOR,
    now: datetime | None = None,
) -> PointsEntry | None:
    """``member`` earns ``points`` through the ledger: available at once unless ``pending``.

    The source key defaults to a fresh ``test:<member>:<hex>``, the document to the key.
    """
    key = source_key or f"test:{member.pk}:{uuid.uuid4().hex}"
    return points_services.earn_points(
        member_id=member.pk,
        points=points,
        source_key=key,
        document=key if document is None else document,
        actor=actor,
        pending=pending,
        now=now,
    )
