"""Spend that counts toward a member's tier: purchases (+) and returns or refunds (−).

Each row carries a unique ``source_key`` (e.g. ``order:261127482193:purchase``,
``pos:S001:R88:purchase``), so a retried write records once. After a purchase lands
the member's tier is recalculated in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.core.errors import ValidationFailedError
from omnimall.core.money import quantize
from omnimall.members.errors import PurchaseConflictError
from omnimall.members.models import Member, MemberPurchase, PurchaseChannel

from .tiers import recalculate_tier, refresh_tiers


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


def record_purchases_bulk(rows: Iterable[PurchaseRow]) -> None:
    """The batch path: insert all rows (keys already recorded are skipped), then tiers.

    One bulk insert ignoring existing source keys, then the affected members' spends in
    one aggregate query and one bulk update of those that changed (``refresh_tiers``).
    Call inside the batch's transaction. Rows must name surviving members (the batch
    resolves members with ``find_member``, which already follows merges).
    """
    assert transaction.get_connection().in_atomic_block, "call inside a transaction"  # noqa: S101
    objects = [
        MemberPurchase(
            member_id=row.member_id,
            channel=row.channel,
            store_id=row.store_id,
            document=row.document[:80],
            source_key=row.source_key,
            amount=quantize(Decimal(row.amount)),
            occurred_at=row.occurred_at,
        )
        for row in rows
    ]
    if not objects:
        return
    MemberPurchase.objects.bulk_create(objects, batch_size=500, ignore_conflicts=True)
    refresh_tiers((o.member_id for o in objects), now=clock.now())
