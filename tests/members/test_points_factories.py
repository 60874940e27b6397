"""Helpers for the points tests (no tests here): members made directly, as rows."""

from __future__ import annotations

import itertools

from omnimall.core.actors import Actor
from omnimall.members.models import Member, Tier

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
