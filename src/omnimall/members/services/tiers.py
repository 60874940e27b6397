"""Tiers from rolling 12-month spend across every channel.

A member's tier is the highest one whose ``min_spend`` the sum of their ``MemberPurchase``
rows (purchases +, returns and refunds −) in the last 12 months reaches. It is recomputed
when a purchase or return lands (``recalculate_tier``, under the member's row lock, so
two purchases landing at once both count) and nightly for everyone
(``recalculate_all_tiers``: old purchases leave the window, so tiers also go down).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.core.money import quantize
from omnimall.members.domain import TIER_CHANGED, TierRule, tier_for
from omnimall.members.models import Member, MemberPurchase, Tier

TIER_ACTOR = Actor.system("tiers")
ALL_TIERS_CHUNK = 2000


def window_start(now: datetime) -> datetime:
    """The same moment 12 calendar months before ``now`` (29 February → 28 February)."""
    try:
        return now.replace(year=now.year - 1)
    except ValueError:
        return now.replace(year=now.year - 1, day=28)


def _rules() -> tuple[list[TierRule], dict[str, Tier]]:
    tiers = list(Tier.objects.order_by("rank"))
    rules = [TierRule(code=t.code, rank=t.rank, min_spend=t.min_spend) for t in tiers]
    return rules, {t.code: t for t in tiers}


def entry_tier() -> Tier:
    """The rank-0 tier every new member starts in."""
    return Tier.objects.order_by("rank").first() or Tier.objects.get(rank=0)


def _spend(member_id: int, *, since: datetime, until: datetime) -> Decimal:
    total = MemberPurchase.objects.filter(
        member_id=member_id, occurred_at__gt=since, occurred_at__lte=until
    ).aggregate(total=Sum("amount"))["total"]
    return quantize(total or Decimal(0))


def _code_of(tier_id: int, by_code: dict[str, Tier]) -> str:
    return next((code for code, tier in by_code.items() if tier.pk == tier_id), str(tier_id))


@transaction.atomic
def recalculate_tier(*, member_id: int, now: datetime | None = None) -> Tier:
    """Recompute one member's 12-month spend and tier; record a tier change in the audit."""
    now = now or clock.now()
    # Lock the member row alone: joined to its tier, a concurrent tier change would make
    # PostgreSQL's re-check of the locked row drop it (the old tier no longer joins).
    member = Member.objects.select_for_update().get(pk=member_id)
    spend = _spend(member.pk, since=window_start(now), until=now)
    rules, by_code = _rules()
    target = by_code[tier_for(spend, rules).code]
    fields: dict[str, object] = {}
    if member.rolling_spend != spend:
        fields["rolling_spend"] = spend
    if member.tier_id != target.pk:
        fields.update(tier_id=target.pk, tier_changed_at=now)
        audit.record(
            actor=TIER_ACTOR,
            action=TIER_CHANGED,
            subject=member,
            changes=tier_change(
                _code_of(member.tier_id, by_code), target.code, member.rolling_spend, spend
            ),
        )
    if fields:
        Member.objects.filter(pk=member.pk).update(**fields)
    return target


def tier_change(
    from_code: str, to_code: str, spend_before: Decimal, spend_after: Decimal
) -> dict[str, Any]:
    """The ``changes`` of a ``member.tier_changed`` audit entry, whichever path moved it."""
    return {"tier": [from_code, to_code], "rolling_spend": [str(spend_before), str(spend_after)]}


def refresh_tiers(member_ids: Iterable[int], *, now: datetime) -> int:
    """Recompute spend and tier of several members; returns how many changed tier.

    Locks the members in pk order (as every points write does), then one aggregate
    query of their spends, one bulk update of those whose spend or tier changed and one
    INSERT of the tier changes' audit entries (the nightly run: tiers also go down, and
    customer service must see when and why). Call inside a transaction.
    """
    ids = sorted(set(member_ids))
    if not ids:
        return 0
    members = list(
        Member.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .only("pk", "tier_id", "rolling_spend", "tier_changed_at", "card_number", "name", "phone")
        .order_by("pk")
    )
    spends = spends_of(ids, now=now)
    rules, by_code = _rules()
    changed_rows: list[Member] = []
    moved: list[tuple[object, str, dict[str, Any]]] = []
    for member in members:
        spend = quantize(spends[member.pk])
        target = by_code[tier_for(spend, rules).code]
        if member.rolling_spend == spend and member.tier_id == target.pk:
            continue
        if member.tier_id != target.pk:
            member.tier_changed_at = now
            change = tier_change(
                _code_of(member.tier_id, by_code), target.code, member.rolling_spend, spend
            )
            moved.append((member.pk, str(member), change))
        member.rolling_spend = spend
        member.tier_id = target.pk
        changed_rows.append(member)
    if changed_rows:
        Member.objects.bulk_update(
            changed_rows, ["rolling_spend", "tier", "tier_changed_at"], batch_size=500
        )
    audit.record_many(actor=TIER_ACTOR, action=TIER_CHANGED, model=Member, subjects=moved)
    return len(moved)


def spends_of(member_ids: list[int], *, now: datetime) -> dict[int, Decimal]:
    """12-month spend of each member in one aggregate query (0 for those without)."""
    spends = dict.fromkeys(member_ids, Decimal(0))
    rows = (
        MemberPurchase.objects.filter(
            member_id__in=member_ids, occurred_at__gt=window_start(now), occurred_at__lte=now
        )
        .values("member_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in rows:
        spends[row["member_id"]] = row["total"] or Decimal(0)
    return spends


def recalculate_all_tiers(*, now: datetime | None = None) -> int:
    """Nightly: every active member's spend and tier; returns how many changed tier."""
    now = now or clock.now()
    ids = list(Member.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    changed = 0
    for start in range(0, len(ids), ALL_TIERS_CHUNK):
        chunk = ids[start : start + ALL_TIERS_CHUNK]
        with transaction.atomic():
            changed += refresh_tiers(chunk, now=now)
    return changed
