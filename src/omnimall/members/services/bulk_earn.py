"""Points earned in bulk: the POS batch path's one writer of the points ledger.

The set-based twin of ``points.earn_points(pending=False)`` for many members at once
(a store's day of receipts). It keeps the ledger's rules exactly:

- **Lock first.** The members are locked in primary-key order (``lock_members``), as every
  points write locks its member, before anything is posted.
- **Append, then cache.** One ``EARN`` entry per earn (``available_delta = points``), one
  lot per entry (available now, expiring ``POINTS_EXPIRY_MONTHS`` later: the same
  ``add_months`` as ``earn_points``), and each member's ``points_available`` moved by the
  sum of its entries in one aggregated ``UPDATE`` (``FROM unnest(…)`` on PostgreSQL,
  ``FROM (VALUES …)`` on SQLite). So the cached balance
  equals the ledger and ``Σ open lot.remaining == points_available``, as after
  ``earn_points``.
- **Once per source key.** Entries go in with ``ON CONFLICT (source_key) DO NOTHING``; a
  key already posted is *not* silently skipped but raises ``BulkEarnConflictError`` (the
  caller rolls back and sends those receipts through the live path, which replays or
  refuses exactly like ``earn_points``).

It also records the batch's purchases and refreshes their members' 12-month spend and tier
(``record_purchases_in_bulk``: ``purchases.record_purchases_bulk`` with set-based
statements, for speed), so one module holds every bulk write of the members' tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from omnimall.core.actors import Actor
from omnimall.core.errors import ConflictError
from omnimall.core.money import quantize
from omnimall.inventory.services.till_bulk import add_to_rows, insert_rows, pg_cursor, pg_rows
from omnimall.members.domain import TierRule, add_months, tier_for
from omnimall.members.models import (
    Member,
    MemberPurchase,
    PointsEntry,
    PointsEntryKind,
    PointsLot,
    Tier,
)
from omnimall.members.services.purchases import PurchaseRow
from omnimall.members.services.tiers import spends_of

CHUNK = 1000


class BulkEarnConflictError(ConflictError):
    code = "points_source_conflict"
    message = "Some earn source keys were already posted."


@dataclass(frozen=True, slots=True)
class MemberState:
    """A member as the batch needs it, read under the member's lock."""

    member_id: int
    tier_id: int
    points_per_cny: Decimal
    merged_into_id: int | None
    is_active: bool


@dataclass(frozen=True, slots=True)
class BulkEarn:
    member_id: int
    points: int  # > 0
    source_key: str
    document: str


def lock_members(member_ids: Iterable[int]) -> dict[int, MemberState]:
    """Lock the members in primary-key order; their tier rate and state under the lock."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_members must run inside a transaction")
    ordered = sorted(set(member_ids))
    found: dict[int, MemberState] = {}
    if connection.vendor == "postgresql":
        members = connection.ops.quote_name(Member._meta.db_table)
        tiers = connection.ops.quote_name(Tier._meta.db_table)
        sql = (
            f"SELECT m.id, m.tier_id, t.points_per_cny, m.merged_into_id, m.is_active "  # noqa: S608
            f"FROM {members} m JOIN {tiers} t ON t.id = m.tier_id WHERE m.id = ANY(%s) "
            "ORDER BY m.id FOR UPDATE OF m"
        )
        for pk, tier_id, rate, merged_into_id, is_active in pg_rows(sql, [ordered]):
            found[pk] = MemberState(pk, tier_id, rate, merged_into_id, is_active)
        return found
    for start in range(0, len(ordered), CHUNK):
        rows = (
            Member.objects.select_for_update(of=("self",))
            .filter(pk__in=ordered[start : start + CHUNK])
            .order_by("pk")
            .values_list("pk", "tier_id", "tier__points_per_cny", "merged_into_id", "is_active")
        )
        for pk, tier_id, rate, merged_into_id, is_active in rows:
            found[pk] = MemberState(pk, tier_id, rate, merged_into_id, is_active)
    return found


def earn_points_bulk(*, earns: Sequence[BulkEarn], actor: Actor, now: datetime) -> dict[str, int]:
    """Post each earn (available at once, with its lot); ``{source_key: entry id}``.

    Call inside a transaction with the members locked (``lock_members``). Earns of 0
    points are refused (``earn_points`` posts nothing for them: leave them out).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("earn_points_bulk must run inside a transaction")
    if not earns:
        return {}
    for earn in earns:
        if earn.points <= 0:
            raise ValueError(f"{earn.source_key}: a bulk earn of {earn.points} points")
    when = connection.ops.adapt_datetimefield_value(now)
    expires = connection.ops.adapt_datetimefield_value(
        add_months(now, int(settings.POINTS_EXPIRY_MONTHS))
    )
    inserted = insert_rows(
        PointsEntry,
        ("member_id", "available_delta", "source_key", "document"),
        [(e.member_id, e.points, e.source_key, e.document[:80]) for e in earns],
        constant={
            "kind": PointsEntryKind.EARN.value,
            "held_delta": 0,
            "pending_delta": 0,
            "reason": "",
            "actor_kind": actor.kind,
            "actor_label": actor.label[:150],
            "created_at": when,
        },
        returning=("id", "source_key"),
        on_conflict="ON CONFLICT (source_key) DO NOTHING",
    )
    ids = {key: entry_id for entry_id, key in inserted}
    if len(ids) != len(earns):
        taken = [e.source_key for e in earns if e.source_key not in ids][:20]
        raise BulkEarnConflictError(source_keys=taken)
    insert_rows(
        PointsLot,
        ("member_id", "entry_id", "points", "remaining"),
        [(e.member_id, ids[e.source_key], e.points, e.points) for e in earns],
        constant={"available_at": when, "expires_at": expires},
    )
    totals: dict[int, int] = {}
    for earn in earns:
        totals[earn.member_id] = totals.get(earn.member_id, 0) + earn.points
    changed = add_to_rows(Member, "points_available", sorted(totals.items()), when=when)
    if changed != len(totals):
        raise RuntimeError(f"{len(totals) - changed} locked members vanished")
    return ids


def record_purchases_in_bulk(*, rows: Sequence[PurchaseRow], now: datetime) -> int:
    """The batch's purchases, then the tiers of their members; how many changed tier.

    What ``purchases.record_purchases_bulk`` does (keys already recorded are skipped; each
    member's 12-month spend in one aggregate query, ``tiers.spends_of``; the tier by
    ``tier_for``; ``tier_changed_at`` set when it changes; no audit entry: the machine
    path), with set-based statements: one ``INSERT``, one read, one
    ``UPDATE … FROM (VALUES …)`` of the members whose spend or tier changed (Django's
    ``bulk_update`` builds a ``CASE`` expression per row, which costs more than the rest
    of a batch segment). Call inside a transaction with the members locked.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_purchases_in_bulk must run inside a transaction")
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
    changes: list[tuple[int, Decimal, int, bool]] = []
    for pk, tier_id, rolling in Member.objects.filter(pk__in=ids).values_list(
        "pk", "tier_id", "rolling_spend"
    ):
        spend = quantize(spends[pk])
        target = tier_ids[tier_for(spend, rules).code]
        if spend != rolling or target != tier_id:
            changes.append((pk, spend, target, target != tier_id))
    _set_spends(changes, when=adapt(now))
    return sum(1 for change in changes if change[3])


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
