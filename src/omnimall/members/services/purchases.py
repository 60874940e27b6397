"""Spend that counts toward a member's tier: purchases (+) and returns or refunds (−).

Each row carries a unique ``source_key`` (e.g. ``order:261127482193:purchase``,
``pos:S001:R88:purchase``), so a retried write records once. After a purchase lands
the member's tier is recalculated in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction

from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.core.errors import ValidationFailedError
from omnimall.core.money import quantize
from omnimall.inventory.services.till_bulk import insert_rows, pg_cursor
from omnimall.members.domain import TIER_CHANGED, TierRule, tier_for
from omnimall.members.errors import PurchaseConflictError
from omnimall.members.models import Member, MemberPurchase, PurchaseChannel, Tier

from . import tiers as tiers_service
from .tiers import recalculate_tier, spends_of

CHUNK = 1000


@dataclass(frozen=True, slots=True)
class PurchaseRow:
    """One purchase for ``record_purchases_bulk`` (the batch path)."""

    member_id: int
    channel: str
    store_id: int | None
    document: str
    source_key: str
    amount: Decimal
    occurred_at: datetime


def survivor_id(member_id: int) -> int:
    """The member a merged duplicate now lives on (itself when never merged)."""
    seen = {member_id}
    current = member_id
    while True:
        merged_into = (
            Member.objects.filter(pk=current).values_list("merged_into_id", flat=True).first()
        )
        if merged_into is None or merged_into in seen:
            return current
        seen.add(merged_into)
        current = merged_into


@transaction.atomic
def record_purchase(
    *,
    member_id: int,
    channel: str,
    store_id: int | None,
    document: str,
    source_key: str,
    amount: Decimal,
    occurred_at: datetime,
    actor: Actor,
) -> MemberPurchase | None:
    """Record one purchase (amount > 0) or return/refund (amount < 0), then the tier.

    Returns the new row; ``None`` when ``source_key`` was already recorded (nothing
    posted). The same key with another member or amount → ``PurchaseConflictError``.
    A merged duplicate's purchases land on the member it was merged into.
    """
    if channel not in PurchaseChannel.values:
        raise ValidationFailedError("Unknown purchase channel.", channel=channel)
    amount = quantize(Decimal(amount))
    target = survivor_id(member_id)
    existing = MemberPurchase.objects.filter(source_key=source_key).first()
    if existing is None:
        try:
            with transaction.atomic():
                purchase = MemberPurchase.objects.create(
                    member_id=target,
                    channel=channel,
                    store_id=store_id,
                    document=document[:80],
                    source_key=source_key,
                    amount=amount,
                    occurred_at=occurred_at,
                )
        except IntegrityError:  # a concurrent writer recorded the same key first
            existing = MemberPurchase.objects.get(source_key=source_key)
        else:
            recalculate_tier(member_id=target)
            return purchase
    if existing.amount != amount or survivor_id(existing.member_id) != target:
        raise PurchaseConflictError(source_key=source_key)
    return None


def record_purchases_bulk(*, rows: Sequence[PurchaseRow], now: datetime) -> int:
    """The batch's purchases, then the tiers of their members; how many changed tier.

    The batch path (POS end-of-day upload). Keys already recorded are skipped; each
    member's 12-month spend comes from one aggregate query (``tiers.spends_of``), the tier
    from ``tier_for``; ``tier_changed_at`` is set when it changes, with an audit entry as
    on the live path (one INSERT for the batch's tier changes). Set-based statements: one
    ``INSERT … ON CONFLICT DO NOTHING``, one read, one ``UPDATE … FROM (VALUES …)``
    (``unnest`` on PostgreSQL) of the members whose spend or tier changed (Django's
    ``bulk_update`` builds a ``CASE`` expression per row, which costs more than the rest of
    a batch segment). Call inside a transaction with the
    members locked in primary-key order; rows must name surviving members (the batch
    resolves members with ``find_member``, which already follows merges).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_purchases_bulk must run inside a transaction")
    if not rows:
        return 0
    adapt = connection.ops.adapt_datetimefield_value
    insert_rows(
        MemberPurchase,
        ("member_id", "channel", "store_id", "document", "source_key", "amount", "occurred_at"),
        [
            (
                r.member_id,
                r.channel,
                r.store_id,
                r.document[:80],
                r.source_key,
                quantize(Decimal(r.amount)),
                adapt(r.occurred_at),
            )
            for r in rows
        ],
        constant={"created_at": adapt(now)},
        on_conflict="ON CONFLICT (source_key) DO NOTHING",
    )
    ids = sorted({r.member_id for r in rows})
    spends = spends_of(ids, now=now)
    tiers = list(Tier.objects.order_by("rank").values_list("pk", "code", "rank", "min_spend"))
    rules = [TierRule(code=code, rank=rank, min_spend=spend) for _, code, rank, spend in tiers]
    tier_ids = {code: pk for pk, code, _, _ in tiers}
    codes = {pk: code for code, pk in tier_ids.items()}
    changes: list[tuple[int, Decimal, int, bool]] = []
    moved: list[tuple[object, str, dict[str, Any]]] = []
    for pk, tier_id, rolling, card, name, phone in Member.objects.filter(pk__in=ids).values_list(
        "pk", "tier_id", "rolling_spend", "card_number", "name", "phone"
    ):
        spend = quantize(spends[pk])
        target = tier_ids[tier_for(spend, rules).code]
        if spend != rolling or target != tier_id:
            changes.append((pk, spend, target, target != tier_id))
        if target != tier_id:
            change = tiers_service.tier_change(codes[tier_id], codes[target], rolling, spend)
            text = str(Member(card_number=card, name=name, phone=phone))  # its own __str__
            moved.append((pk, text, change))
    _set_spends(changes, when=adapt(now))
    audit.record_many(
        actor=tiers_service.TIER_ACTOR,
        action=TIER_CHANGED,
        model=Member,
        subjects=moved,
    )
    return len(moved)


def _set_spends(changes: Sequence[tuple[int, Decimal, int, bool]], *, when: Any) -> None:
    if not changes:
        return
    table = connection.ops.quote_name(Member._meta.db_table)
    assignments = (
        f"rolling_spend = v.spend, tier_id = v.tier, tier_changed_at = "
        f"CASE WHEN v.moved THEN %s ELSE {table}.tier_changed_at END"
    )
    if connection.vendor == "postgresql":
        sql = (
            f"UPDATE {table} SET {assignments} FROM unnest(%s::bigint[], %s::numeric[], "  # noqa: S608
            f"%s::bigint[], %s::boolean[]) AS v(id, spend, tier, moved) WHERE {table}.id = v.id"
        )
        columns = [list(column) for column in zip(*changes, strict=True)]
        with pg_cursor() as cursor:
            cursor.execute(sql, [when, *columns])
        return
    for start in range(0, len(changes), CHUNK):
        chunk = changes[start : start + CHUNK]
        values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
        sql = (
            (
                f"UPDATE {table} SET {assignments.replace('v.spend', 'v.column2')} "  # noqa: S608
                f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1"
            )
            .replace("v.tier", "v.column3")
            .replace("v.moved", "v.column4")
        )
        params: list[Any] = [when]
        for pk, spend, tier_id, moved in chunk:
            params.extend((pk, spend, tier_id, moved))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
