"""Till sales in bulk: a day's receipts uploaded at close, many lines per statement.

The set-based twin of ``till.sell_lines_at_store`` for the POS batch path
(``pos.services.batch``), for lines the caller has *proved* sellable in full under the
levels' locks. It keeps the same rules as every stock write:

- each line sold appends one ``sale`` movement (``−quantity``) in the same transaction, so
  ``on_hand`` stays the sum of the level's movements;
- ``on_hand`` moves by one aggregated conditional ``UPDATE … FROM (VALUES …)`` per chunk:
  ``on_hand = on_hand − sold WHERE on_hand − sold ≥ reserved``, and the row count is
  checked (a level that could not give everything aborts the whole unit of work);
- levels are locked in primary-key order (``lock_store_levels``), ``FOR NO KEY UPDATE`` as
  in ``stock``, before anything is decided.

What the live path does when a line is short (sell what there is, release lapsed holds,
flag the receipt) is not repeated here: the batch sends such receipts through the live
path one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from omnimall.core.actors import Actor
from omnimall.inventory.errors import StockLedgerError
from omnimall.inventory.models import MovementKind, StockLevel, StockMovement

CHUNK = 1000
Pair = tuple[int, int]  # (location_id, sku_id)


@dataclass(frozen=True, slots=True)
class LevelState:
    level_id: int
    on_hand: int
    reserved: int

    @property
    def sellable(self) -> int:
        """What a till may take: safety stock ignored (it is kept for walk-in shoppers)."""
        return max(0, self.on_hand - self.reserved)


@dataclass(frozen=True, slots=True)
class BulkSale:
    """One receipt line, sold in full from an existing level."""

    level_id: int
    quantity: int
    reference: str


def store_levels(pairs: Iterable[Pair], *, lock: bool = False) -> dict[Pair, LevelState]:
    """The existing levels of ``pairs``; with ``lock``, locked in primary-key order.

    Locking needs a transaction. Unlocked, it is a snapshot for planning only.
    """
    by_location: dict[int, set[int]] = {}
    for location_id, sku_id in pairs:
        by_location.setdefault(location_id, set()).add(sku_id)
    found: dict[Pair, LevelState] = {}
    for location_id, sku_ids in sorted(by_location.items()):
        ordered = sorted(sku_ids)
        for start in range(0, len(ordered), CHUNK):
            rows = StockLevel.objects.filter(
                location_id=location_id, sku_id__in=ordered[start : start + CHUNK]
            ).values_list("pk", "sku_id", "on_hand", "reserved")
            for pk, sku_id, on_hand, reserved in rows:
                found[(location_id, sku_id)] = LevelState(pk, on_hand, reserved)
    if lock and found:
        locked = lock_levels(state.level_id for state in found.values())
        found = {pair: locked[state.level_id] for pair, state in found.items()}
    return found


def lock_levels(level_ids: Iterable[int]) -> dict[int, LevelState]:
    """Lock levels in primary-key order and read them under the lock."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_levels must run inside a transaction")
    no_key = connection.features.has_select_for_no_key_update
    ordered = sorted(set(level_ids))
    locked: dict[int, LevelState] = {}
    for start in range(0, len(ordered), CHUNK):
        rows = (
            StockLevel.objects.select_for_update(no_key=no_key)
            .filter(pk__in=ordered[start : start + CHUNK])
            .order_by("pk")
            .values_list("pk", "on_hand", "reserved")
        )
        for pk, on_hand, reserved in rows:
            locked[pk] = LevelState(pk, on_hand, reserved)
    return locked


def sell_in_bulk(*, sales: Sequence[BulkSale], actor: Actor, now: datetime) -> None:
    """Append one sale movement per line and take the units off ``on_hand``.

    Call inside a transaction, with the levels locked (``lock_levels``) and every line
    checked sellable in full (Σ per level ≤ ``on_hand − reserved``). Raises
    ``StockLedgerError`` (the caller's transaction rolls back) if a level cannot give it.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sell_in_bulk must run inside a transaction")
    if not sales:
        return
    for sale in sales:
        if sale.quantity <= 0:
            raise StockLedgerError(f"a till sale of {sale.quantity} units")
    when = connection.ops.adapt_datetimefield_value(now)
    label = actor.label[:150]
    insert_rows(
        StockMovement._meta.db_table,
        ("level_id", "kind", "quantity", "reason", "actor_kind", "actor_label", "reference"),
        [
            (
                s.level_id,
                MovementKind.SALE.value,
                -s.quantity,
                "",
                actor.kind,
                label,
                s.reference[:120],
            )
            for s in sales
        ],
        constant={"created_at": when},
    )
    totals: dict[int, int] = {}
    for sale in sales:
        totals[sale.level_id] = totals.get(sale.level_id, 0) + sale.quantity
    _take_off(sorted(totals.items()), when=when)


def _take_off(totals: Sequence[tuple[int, int]], *, when: Any) -> None:
    table = connection.ops.quote_name(StockLevel._meta.db_table)
    for start in range(0, len(totals), CHUNK):
        chunk = totals[start : start + CHUNK]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        sql = (
            f"UPDATE {table} SET on_hand = {table}.on_hand - v.column2, updated_at = %s "  # noqa: S608
            f"FROM (VALUES {values}) AS v "
            f"WHERE {table}.id = v.column1 AND {table}.on_hand - v.column2 >= {table}.reserved"
        )
        params: list[Any] = [when]
        for level_id, quantity in chunk:
            params.extend((level_id, quantity))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.rowcount != len(chunk):
                raise StockLedgerError(
                    f"{len(chunk) - cursor.rowcount} stock levels could not give a till sale"
                )


def insert_rows(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    constant: dict[str, Any] | None = None,
    returning: Sequence[str] = (),
    on_conflict: str = "",
) -> list[tuple[Any, ...]]:
    """Multi-row ``INSERT`` (chunked to the database's parameter limit); values must be
    adapted already (``connection.ops.adapt_datetimefield_value`` for datetimes).

    ``constant`` columns take one value for every row; ``on_conflict`` is appended as
    given (e.g. ``ON CONFLICT (source_key) DO NOTHING``); ``returning`` columns come back
    for the rows actually inserted. For the bulk paths of the POS batch.
    """
    if not rows:
        return []
    quote = connection.ops.quote_name
    extra = list((constant or {}).items())
    names = ", ".join(quote(c) for c in (*columns, *(name for name, _ in extra)))
    per_row = len(columns) + len(extra)
    holder = "(" + ", ".join(["%s"] * per_row) + ")"
    batch = max(1, min(CHUNK, 30000 // per_row))
    tail = f" {on_conflict}" if on_conflict else ""
    if returning:
        tail += " RETURNING " + ", ".join(quote(c) for c in returning)
    fixed = [value for _, value in extra]
    found: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params: list[Any] = []
            for row in chunk:
                params.extend(row)
                params.extend(fixed)
            values = ", ".join([holder] * len(chunk))
            sql = f"INSERT INTO {quote(table)} ({names}) VALUES {values}{tail}"  # noqa: S608
            cursor.execute(sql, params)
            if returning:
                found.extend(tuple(r) for r in cursor.fetchall())
    return found
