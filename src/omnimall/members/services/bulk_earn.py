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

The batch's purchases and tiers are recorded by ``purchases.record_purchases_bulk``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction

from omnimall.core.actors import Actor
from omnimall.core.errors import ConflictError
from omnimall.inventory.services.till_bulk import add_to_rows, insert_rows, pg_rows
from omnimall.members.domain import MAX_POINTS_PER_ENTRY, add_months
from omnimall.members.models import (
    Member,
    PointsEntry,
    PointsEntryKind,
    PointsLot,
    Tier,
)

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
    points are refused (``earn_points`` posts nothing for them: leave them out), and so
    are earns above ``MAX_POINTS_PER_ENTRY`` (``earn_points`` refuses them: send them
    that way).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("earn_points_bulk must run inside a transaction")
    if not earns:
        return {}
    for earn in earns:
        if not 0 < earn.points <= MAX_POINTS_PER_ENTRY:
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
