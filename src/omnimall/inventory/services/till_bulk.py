"""Till sales in bulk: a day's receipts uploaded at close, many lines per statement.

The set-based twin of ``till.sell_lines_at_store`` for the POS batch path
(``pos.services.batch``), for lines the caller has *proved* sellable in full under the
levels' locks. It keeps the same rules as every stock write:

- each line sold appends one ``sale`` movement (``−quantity``) in the same transaction, so
  ``on_hand`` stays the sum of the level's movements;
- ``on_hand`` moves by one aggregated conditional ``UPDATE … FROM (VALUES …)`` (on
  PostgreSQL ``FROM unnest(…)``, one array per column):
  ``on_hand = on_hand − sold WHERE on_hand − sold ≥ reserved``, and the row count is
  checked (a level that could not give everything aborts the whole unit of work);
- levels are locked in primary-key order (``lock_levels``), ``FOR NO KEY UPDATE`` as in
  ``stock``, before anything is decided.

What the live path does when a line is short (sell what there is, release lapsed holds,
flag the receipt) is not repeated here: the batch sends such receipts through the live
path one by one.

``insert_rows``, ``add_to_rows`` and ``pg_rows`` are the set-based statements the batch's
writers share (``pos.services.batch``, ``members.services.bulk_earn``): on PostgreSQL,
``COPY`` or one array per column with server-side binding (Django's cursors bind
client-side, re-parsing thousands of placeholders per call); on SQLite, multi-row
``VALUES``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

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


def store_levels(pairs: Iterable[Pair]) -> dict[Pair, LevelState]:
    """The existing levels of ``pairs``, unlocked: a snapshot for planning.

    One query over the stores × SKUs named (a store uploads its own day: few stores), the
    wanted pairs kept.
    """
    wanted = set(pairs)
    if not wanted:
        return {}
    locations = sorted({location_id for location_id, _ in wanted})
    skus = sorted({sku_id for _, sku_id in wanted})
    found: dict[Pair, LevelState] = {}
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(StockLevel._meta.db_table)
        sql = (
            f"SELECT id, location_id, sku_id, on_hand, reserved FROM {table} "  # noqa: S608
            "WHERE location_id = ANY(%s) AND sku_id = ANY(%s)"
        )
        for pk, location_id, sku_id, on_hand, reserved in pg_rows(sql, [locations, skus]):
            if (location_id, sku_id) in wanted:
                found[(location_id, sku_id)] = LevelState(pk, on_hand, reserved)
        return found
    for start in range(0, len(skus), CHUNK):
        rows = StockLevel.objects.filter(
            location_id__in=locations, sku_id__in=skus[start : start + CHUNK]
        ).values_list("pk", "location_id", "sku_id", "on_hand", "reserved")
        for pk, location_id, sku_id, on_hand, reserved in rows:
            if (location_id, sku_id) in wanted:
                found[(location_id, sku_id)] = LevelState(pk, on_hand, reserved)
    return found


def lock_levels(level_ids: Iterable[int]) -> dict[int, LevelState]:
    """Lock levels in primary-key order and read them under the lock."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_levels must run inside a transaction")
    no_key = connection.features.has_select_for_no_key_update
    ordered = sorted(set(level_ids))
    locked: dict[int, LevelState] = {}
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(StockLevel._meta.db_table)
        sql = (
            f"SELECT id, on_hand, reserved FROM {table} WHERE id = ANY(%s) "  # noqa: S608
            "ORDER BY id FOR NO KEY UPDATE"
        )
        for pk, on_hand, reserved in pg_rows(sql, [ordered]):
            locked[pk] = LevelState(pk, on_hand, reserved)
        return locked
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
        StockMovement,
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
        totals[sale.level_id] = totals.get(sale.level_id, 0) - sale.quantity
    changed = add_to_rows(StockLevel, "on_hand", sorted(totals.items()), when=when)
    if changed != len(totals):
        raise StockLedgerError(f"{len(totals) - changed} stock levels could not give a till sale")


def _array_types(model: type[Model], columns: Sequence[str]) -> list[str]:
    """PostgreSQL array types of ``columns`` (attnames), for ``unnest(%s::type[], …)``."""
    types = []
    for column in columns:
        db_type = model._meta.get_field(column).db_type(connection) or "text"
        types.append("bigint" if db_type.endswith("serial") else db_type)
    return types


def pg_cursor() -> Any:
    """A server-side-binding cursor on Django's connection (same transaction).

    Django's cursors bind client-side: psycopg then re-parses a statement of thousands of
    placeholders on every call. Here a statement has one array parameter per column.
    """
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def pg_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of a PostgreSQL query whose id lists are bound as arrays (``= ANY(%s)``)."""
    with pg_cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def insert_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    constant: dict[str, Any] | None = None,
    returning: Sequence[str] = (),
    on_conflict: str = "",
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (values of ``columns``, attnames) into ``model``'s table at once.

    ``constant`` columns take one value for every row; ``on_conflict`` is appended as
    given (e.g. ``ON CONFLICT (source_key) DO NOTHING``); ``returning`` columns come back
    for the rows actually inserted. PostgreSQL: ``COPY`` when nothing comes back and no
    conflict is expected, else one ``INSERT … SELECT FROM unnest(…)`` with an array per
    column; SQLite: multi-row ``VALUES`` chunked to its parameter limit
    (datetimes must then be adapted already: ``connection.ops.adapt_datetimefield_value``).
    For the bulk paths of the POS batch.
    """
    if not rows:
        return []
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    extra = list((constant or {}).items())
    all_columns = [*columns, *(name for name, _ in extra)]
    names = ", ".join(quote(c) for c in all_columns)
    tail = f" {on_conflict}" if on_conflict else ""
    if returning:
        tail += " RETURNING " + ", ".join(quote(c) for c in returning)
    if connection.vendor == "postgresql" and not returning and not on_conflict:
        constants = tuple(value for _, value in extra)
        with pg_cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, *constants))
        return []
    if connection.vendor == "postgresql":
        types = _array_types(model, columns)
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        fixed = ", ".join(f"%s::{t}" for t in _array_types(model, [name for name, _ in extra]))
        select = f"SELECT *{', ' if extra else ''}{fixed} FROM unnest({arrays})"  # noqa: S608
        sql = f"INSERT INTO {table} ({names}) {select}{tail}"
        # The constants' placeholders come first in the statement, then the arrays.
        params: list[Any] = [value for _, value in extra]
        params.extend(list(column) for column in zip(*rows, strict=True))
        with pg_cursor() as cursor:
            cursor.execute(sql, params)
            return [tuple(r) for r in cursor.fetchall()] if returning else []
    per_row = len(all_columns)
    holder = "(" + ", ".join(["%s"] * per_row) + ")"
    batch = max(1, min(CHUNK, 30000 // per_row))
    fixed_values = [value for _, value in extra]
    found: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params_list: list[Any] = []
            for row in chunk:
                params_list.extend(row)
                params_list.extend(fixed_values)
            values = ", ".join([holder] * len(chunk))
            sql = f"INSERT INTO {table} ({names}) VALUES {values}{tail}"  # noqa: S608
            cursor.execute(sql, params_list)
            if returning:
                found.extend(tuple(r) for r in cursor.fetchall())
    return found


def add_to_rows(
    model: type[Model], column: str, deltas: Sequence[tuple[int, int]], *, when: Any
) -> int:
    """``UPDATE … SET column = column + delta, updated_at = when`` for ``(id, delta)`` pairs,
    in one statement per chunk; returns how many rows changed. With ``column`` =
    ``on_hand`` the delta is negative and a row that would fall below ``reserved`` is left
    alone (the caller compares the count)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    col = quote(column)
    guard = f" AND {table}.on_hand + v.delta >= {table}.reserved" if column == "on_hand" else ""
    changed = 0
    if connection.vendor == "postgresql":
        sql = (
            f"UPDATE {table} SET {col} = {table}.{col} + v.delta, updated_at = %s "  # noqa: S608
            f"FROM unnest(%s::bigint[], %s::integer[]) AS v(id, delta) "
            f"WHERE {table}.id = v.id{guard}"
        )
        with pg_cursor() as cursor:
            cursor.execute(sql, [when, [i for i, _ in deltas], [d for _, d in deltas]])
            return int(cursor.rowcount)
    for start in range(0, len(deltas), CHUNK):
        chunk = deltas[start : start + CHUNK]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        sql = (
            f"UPDATE {table} SET {col} = {table}.{col} + v.column2, updated_at = %s "  # noqa: S608
            f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1"
            + guard.replace("v.delta", "v.column2")
        )
        params: list[Any] = [when]
        for row_id, delta in chunk:
            params.extend((row_id, delta))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            changed += cursor.rowcount
    return changed
