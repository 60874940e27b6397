"""Hold a whole basket at once: every line or none.

Builds on the primitives of ``stock`` and keeps its rules. Locks: the basket's stock levels
in primary-key order, whatever order the lines came in, so two baskets holding the same
SKUs in opposite orders queue behind each other instead of deadlocking. Under those locks
each line is decided by the same conditional UPDATE as ``reserve_stock``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db import connection, transaction
from django.db.models import Q

from omnimall.core import clock
from omnimall.inventory.domain import Shortage
from omnimall.inventory.errors import InsufficientStockError, InvalidQuantityError
from omnimall.inventory.models import Reservation, StockLevel

from . import flash
from .stock import (
    DEFAULT_HOLD,
    _hold_units,
    _level_available,
    _release_lapsed_holds,
    _require_positive,
    channel_kept_back,
)

BasketLine = tuple[int, int, int]  # (location_id, sku_id, quantity)


def _merge_lines(lines: Sequence[BasketLine]) -> dict[tuple[int, int], int]:
    """``{(location_id, sku_id): quantity}`` in first-seen order; duplicate lines add up."""
    if isinstance(lines, str | bytes) or not lines:
        raise InvalidQuantityError("A basket needs at least one line.")
    merged: dict[tuple[int, int], int] = {}
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


def _lock_levels(keys: Sequence[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Lock the levels of ``keys`` at active locations in pk order: (pk, location, sku).

    FOR NO KEY UPDATE (where the database has it), like ``stock._lock_level``: it excludes
    other writers of these rows but not the FOR KEY SHARE that a new reservation's foreign
    key check takes.
    """
    wanted = reduce(or_, (Q(location_id=loc, sku_id=sku) for loc, sku in keys))
    no_key = connection.features.has_select_for_no_key_update
    return list(
        StockLevel.objects.select_for_update(of=("self",), no_key=no_key)
        .filter(wanted, location__is_active=True)
        .order_by("pk")
        .values_list("pk", "location_id", "sku_id")
    )


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
    per location as there.
    """
    wanted = _merge_lines(lines)
    if hold_for <= timedelta(0):
        raise InvalidQuantityError("A hold must last a positive time.", hold_for=str(hold_for))
    now = now or clock.now()
    kept_back = channel_kept_back(
        channel_code=channel_code, location_ids=[loc for loc, _ in wanted]
    )
    with transaction.atomic():
        level_ids: dict[tuple[int, int], int] = {}
        shortages: dict[tuple[int, int], Shortage] = {}
        for level_id, location_id, sku_id in _lock_levels(list(wanted)):
            key = (location_id, sku_id)
            level_ids[key] = level_id
            quantity, extra = wanted[key], kept_back[location_id]
            if _hold_units(level_id=level_id, quantity=quantity, kept_back=extra):
                continue
            _release_lapsed_holds(level_id=level_id, now=now)
            if _hold_units(level_id=level_id, quantity=quantity, kept_back=extra):
                continue
            # A level in flash-sale mode keeps its units in buckets (services.flash).
            if not flash.draw_across_buckets(level_id=level_id, quantity=quantity, kept_back=extra):
                available = _level_available(level_id, extra)
                available += flash.units_in_buckets(level_id=level_id)
                shortages[key] = Shortage(sku_id, location_id, quantity, available)
        if shortages or len(level_ids) < len(wanted):
            # Raising inside the atomic block undoes the lines already held.
            raise InsufficientStockError(
                [
                    shortages.get(key) or Shortage(key[1], key[0], quantity, 0)
                    for key, quantity in wanted.items()
                    if key in shortages or key not in level_ids
                ]
            )
        return Reservation.objects.bulk_create(
            Reservation(
                level_id=level_ids[key],
                quantity=quantity,
                owner_type=owner_type[:40],
                owner_id=owner_id[:64],
                reference=reference[:120],
                expires_at=now + hold_for,
            )
            for key, quantity in wanted.items()
        )
