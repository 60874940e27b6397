"""Holding an order's planned units, and spreading them over its lines as allocations.

Shared by ``placement`` (the first holds, before payment) and ``fulfilment`` (new holds
elsewhere for lines a location rejected). ``units`` is ``{(location_id, sku_id): units}``
as planned by inventory's allocation. Call inside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from omnimall.inventory import services as inventory
from omnimall.orders.models import Order, OrderAllocation, OrderLine

Key = tuple[int, int]  # (location_id, sku_id)


def hold_units(
    order: Order, units: Mapping[Key, int], *, hold_for: timedelta, now: datetime | None = None
) -> dict[Key, int]:
    """Hold ``units`` for the order; the reservation id of each (location_id, sku_id)."""
    keys = list(units)
    reservations = inventory.reserve_basket(
        lines=[(loc, sku, units[(loc, sku)]) for loc, sku in keys],
        owner_type="order",
        owner_id=order.number,
        reference=f"order {order.number}",
        hold_for=hold_for,
        channel_code=order.channel_code,
        now=now,
    )
    return {key: r.pk for key, r in zip(keys, reservations, strict=True)}


def spread_units(
    needs: Iterable[tuple[OrderLine, int]],
    units: Mapping[Key, int],
    reservation_ids: Mapping[Key, int],
) -> list[OrderAllocation]:
    """Spread each location's units of a SKU over the lines needing that SKU (unsaved)."""
    rows: list[OrderAllocation] = []
    left = dict(units)
    for line, need in needs:
        for (location_id, sku_id), available in left.items():
            if sku_id != line.sku_id or available <= 0 or need <= 0:
                continue
            take = min(need, available)
            left[(location_id, sku_id)] -= take
            need -= take
            rows.append(
                OrderAllocation(
                    line=line,
                    location_id=location_id,
                    quantity=take,
                    reservation_id=reservation_ids[(location_id, sku_id)],
                )
            )
    return rows
