"""Hold a whole basket at once: every line or none.

Builds on the primitives of ``stock`` and keeps its rules. Locks: the basket's stock levels
in primary-key order, whatever order the lines came in, so two baskets holding the same
SKUs in opposite orders queue behind each other instead of deadlocking. Under those locks
each line is decided by the same conditional UPDATE as ``reserve_stock``.

Every checkout runs this, so its common path is hand-written SQL with few round trips:
one statement locks the levels and reads their counters with what the channel keeps back
at each location (its safety stock rules), one conditional UPDATE per level (pk order),
one INSERT for the reservations. The counters read under the locks tell beforehand
whether every line fits; when one does not (lapsed holds to release, flash-sale buckets,
a real shortage) the careful per-line path runs in a savepoint.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from omnimall.channels import selectors as channel_selectors
from omnimall.core import clock
from omnimall.inventory.domain import Shortage
from omnimall.inventory.errors import (
    InsufficientStockError,
    InvalidQuantityError,
    StockLedgerError,
    UnknownChannelError,
)
from omnimall.inventory.models import (
    ChannelSafetyStock,
    Reservation,
    ReservationState,
    StockLevel,
    StockLocation,
)

from . import flash
from .stock import (
    DEFAULT_HOLD,
    _hold_units,
    _level_available,
    _release_lapsed_holds,
    _require_positive,
)

BasketLine = tuple[int, int, int]  # (location_id, sku_id, quantity)
Key = tuple[int, int]  # (location_id, sku_id)


class _Level(NamedTuple):
    """A locked level as the lock statement read it."""

    level_id: int
    location_id: int
    sku_id: int
    on_hand: int
    reserved: int
    safety_stock: int
    kept_back: int  # the channel's safety units at this location

    def fits(self, quantity: int) -> bool:
        """The hold UPDATE's own condition, on the counters read under the lock."""
        return self.on_hand >= self.reserved + self.safety_stock + self.kept_back + quantity


def _merge_lines(lines: Sequence[BasketLine]) -> dict[Key, int]:
    """``{(location_id, sku_id): quantity}`` in first-seen order; duplicate lines add up."""
    if isinstance(lines, str | bytes) or not lines:
        raise InvalidQuantityError("A basket needs at least one line.")
    merged: dict[Key, int] = {}
    for line in lines:
        try:
            location_id, sku_id, quantity = line
        except (TypeError, ValueError):
            raise InvalidQuantityError(
                "A basket line is (location_id, sku_id, quantity).", line=repr(line)
            ) from None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (location_id, sku_id)):
            raise InvalidQuantityError("Location and SKU ids are integers.", line=repr(line))
        key = (location_id, sku_id)
        merged[key] = merged.get(key, 0) + _require_positive(quantity)
    return merged


def _column(model: Any, name: str) -> str:
    return str(connection.ops.quote_name(str(model._meta.get_field(name).column)))


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


@functools.cache
def _lock_sql(pairs: int, with_channel: bool, vendor: str) -> str:
    """The lock statement for ``pairs`` (location, sku) pairs; built once per shape.

    FOR NO KEY UPDATE (where the database has it), like ``stock._lock_level``: it excludes
    other writers of these rows but not the FOR KEY SHARE that a new reservation's foreign
    key check takes. With a channel, two more columns: per level the units the channel
    keeps back at its location (the location's own rule wins over the channel-wide one),
    and the channel's id (NULL: no such channel).
    """
    del vendor  # part of the cache key: quoting and lock clauses differ by database
    rule, channel = ChannelSafetyStock, ChannelSafetyStock._meta.get_field("channel").related_model
    n = {
        "level": _table(StockLevel),
        "location": _table(StockLocation),
        "rules": _table(rule),
        "channels": _table(channel),
        **{f"level_{name}": _column(StockLevel, name) for name in ("id", "location", "sku")},
        **{f"rule_{name}": _column(rule, name) for name in ("units", "channel", "location")},
        "channel_id": _column(channel, "id"),
        "channel_code": _column(channel, "code"),
        "location_id": _column(StockLocation, "id"),
        "active": _column(StockLocation, "is_active"),
    }
    counters = ", ".join(
        f"{n['level']}.{_column(StockLevel, name)}"
        for name in ("on_hand", "reserved", "safety_stock")
    )
    channel_id = (
        f"(SELECT c.{n['channel_id']} FROM {n['channels']} c WHERE c.{n['channel_code']} = %s)"  # noqa: S608 (names from the models; values are bound)
    )
    kept_back = (
        f"COALESCE((SELECT r.{n['rule_units']} FROM {n['rules']} r "  # noqa: S608
        f"WHERE r.{n['rule_channel']} = {channel_id} AND (r.{n['rule_location']} = "
        f"{n['level']}.{n['level_location']} OR r.{n['rule_location']} IS NULL) "
        f"ORDER BY CASE WHEN r.{n['rule_location']} IS NULL THEN 1 ELSE 0 END LIMIT 1), 0)"
    )
    pair = f"({n['level']}.{n['level_location']} = %s AND {n['level']}.{n['level_sku']} = %s)"
    sql = (
        f"SELECT {n['level']}.{n['level_id']}, {n['level']}.{n['level_location']}, "  # noqa: S608
        f"{n['level']}.{n['level_sku']}, {counters}"
        + (f", {kept_back}, {channel_id}" if with_channel else "")
        + f" FROM {n['level']} INNER JOIN {n['location']} "
        f"ON ({n['level']}.{n['level_location']} = {n['location']}.{n['location_id']}) "
        f"WHERE {n['location']}.{n['active']} = %s AND ({' OR '.join([pair] * pairs)}) "
        f"ORDER BY {n['level']}.{n['level_id']} ASC"
    )
    features = connection.features
    if features.has_select_for_update:
        no_key = " NO KEY" if features.has_select_for_no_key_update else ""
        of = f" OF {n['level']}" if features.has_select_for_update_of else ""
        sql += f" FOR{no_key} UPDATE{of}"
    return sql


def _lock_levels(keys: Sequence[Key], channel_code: str | None) -> list[_Level]:
    """Lock the levels of ``keys`` at active locations in pk order, with their counters.

    Raises ``UnknownChannelError`` (nothing written) for a channel that does not exist.
    """
    with_channel = channel_code is not None
    params: list[Any] = [channel_code, channel_code] if with_channel else []
    params.append(True)
    for location_id, sku_id in keys:
        params.extend((location_id, sku_id))
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(len(keys), with_channel, connection.vendor), params)
        rows = cursor.fetchall()
    if not with_channel:
        return [_Level._make((*row, 0)) for row in rows]
    if (rows and rows[0][-1] is None) or (
        not rows and channel_selectors.get_channel_id(str(channel_code)) is None
    ):
        raise UnknownChannelError(channel_code=channel_code)
    return [_Level._make(row[:-1]) for row in rows]


@functools.cache
def _insert_sql(rows: int, vendor: str) -> str:
    del vendor  # part of the cache key
    quote = connection.ops.quote_name
    columns = ", ".join(_column(Reservation, name) for name in _RESERVATION_COLUMNS)
    values = ", ".join(["(" + ", ".join(["%s"] * len(_RESERVATION_COLUMNS)) + ")"] * rows)
    return (
        f"INSERT INTO {quote(Reservation._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES {values} RETURNING {_column(Reservation, 'id')}, {_column(Reservation, 'level')}"
    )


_RESERVATION_COLUMNS = (
    "level",
    "quantity",
    "state",
    "owner_type",
    "owner_id",
    "reference",
    "expires_at",
    "created_at",
    "updated_at",
)


def _record(
    held: Sequence[tuple[int, int]],
    *,
    owner_type: str,
    owner_id: str,
    reference: str,
    expires_at: datetime,
) -> list[Reservation]:
    """Insert one held reservation per ``(level_id, quantity)`` in one statement."""
    stamp = timezone.now()
    fields: dict[str, Any] = {
        "state": ReservationState.HELD.value,
        "owner_type": owner_type[:40],
        "owner_id": owner_id[:64],
        "reference": reference[:120],
        "expires_at": expires_at,
        "created_at": stamp,
        "updated_at": stamp,
    }
    adapt = connection.ops.adapt_datetimefield_value
    db_fields = {
        **fields,
        **{name: adapt(fields[name]) for name in ("expires_at", "created_at", "updated_at")},
    }
    params: list[Any] = []
    for level_id, quantity in held:
        params.extend((level_id, quantity))
        params.extend(db_fields[name] for name in _RESERVATION_COLUMNS[2:])
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(len(held), connection.vendor), params)
        ids = {level_id: pk for pk, level_id in cursor.fetchall()}
    names = [field.attname for field in Reservation._meta.concrete_fields]
    reservations = []
    for level_id, quantity in held:
        values = {"id": ids[level_id], "level_id": level_id, "quantity": quantity, **fields}
        reservations.append(
            Reservation.from_db(connection.alias, names, [values[name] for name in names])
        )
    return reservations


def _hold_carefully(wanted: dict[Key, int], levels: Sequence[_Level], *, now: datetime) -> None:
    """Some line does not fit as the counters stand: decide each line the slow way.

    Call in a savepoint: a refusal raises ``out_of_stock`` listing every short line, and
    the savepoint undoes what was held or released meanwhile.
    """
    found: set[Key] = set()
    shortages: dict[Key, Shortage] = {}
    for level in levels:
        key = (level.location_id, level.sku_id)
        found.add(key)
        quantity, extra, level_id = wanted[key], level.kept_back, level.level_id
        if _hold_units(level_id=level_id, quantity=quantity, kept_back=extra):
            continue
        _release_lapsed_holds(level_id=level_id, now=now)
        if _hold_units(level_id=level_id, quantity=quantity, kept_back=extra):
            continue
        # A level in flash-sale mode keeps its units in buckets (services.flash).
        if not flash.draw_across_buckets(level_id=level_id, quantity=quantity, kept_back=extra):
            available = _level_available(level_id, extra)
            available += flash.units_in_buckets(level_id=level_id)
            shortages[key] = Shortage(level.sku_id, level.location_id, quantity, available)
    if shortages or len(found) < len(wanted):
        raise InsufficientStockError(
            [
                shortages.get(key) or Shortage(key[1], key[0], quantity, 0)
                for key, quantity in wanted.items()
                if key in shortages or key not in found
            ]
        )


def _reserve(
    wanted: dict[Key, int], *, channel_code: str | None, now: datetime
) -> list[tuple[int, int]]:
    """Hold every line (inside a transaction); ``(level_id, quantity)`` in ``wanted`` order."""
    levels = _lock_levels(list(wanted), channel_code)
    level_ids = {(level.location_id, level.sku_id): level.level_id for level in levels}
    if len(levels) == len(wanted) and all(
        level.fits(wanted[(level.location_id, level.sku_id)]) for level in levels
    ):
        # Every line fits under the locks: no savepoint, and nothing is written before this
        # is known, so a refusal above leaves a caller's transaction as it was.
        for level in levels:
            quantity = wanted[(level.location_id, level.sku_id)]
            if not _hold_units(
                level_id=level.level_id, quantity=quantity, kept_back=level.kept_back
            ):
                # Cannot happen while the lock holds; never let part of a basket commit.
                transaction.set_rollback(True)
                raise StockLedgerError(f"level {level.level_id} changed under its lock")
    else:
        with transaction.atomic():
            _hold_carefully(wanted, levels, now=now)
    return [(level_ids[key], quantity) for key, quantity in wanted.items()]


def reserve_basket(
    *,
    lines: Sequence[BasketLine],
    owner_type: str = "",
    owner_id: str = "",
    reference: str = "",
    hold_for: timedelta = DEFAULT_HOLD,
    channel_code: str | None = None,
    now: datetime | None = None,
) -> list[Reservation]:
    """Hold every (location_id, sku_id, quantity) line for ``hold_for``, or none of them.

    Duplicate lines are merged (one reservation per level, in first-seen order). A refusal
    raises ``out_of_stock`` listing every short line, not just the first. Lapsed holds never
    count: a line that does not fit has its level's lapsed holds released (under the lock)
    and is decided again, as in ``reserve_stock``. A channel's safety stock is kept back
    per location as there. Inside a caller's transaction a refusal leaves it usable (the
    levels stay locked until it ends).
    """
    wanted = _merge_lines(lines)
    if hold_for <= timedelta(0):
        raise InvalidQuantityError("A hold must last a positive time.", hold_for=str(hold_for))
    now = now or clock.now()
    fields = {"owner_type": owner_type, "owner_id": owner_id, "reference": reference}
    if connection.in_atomic_block:
        held = _reserve(wanted, channel_code=channel_code, now=now)
        return _record(held, expires_at=now + hold_for, **fields)
    with transaction.atomic():
        held = _reserve(wanted, channel_code=channel_code, now=now)
        return _record(held, expires_at=now + hold_for, **fields)
