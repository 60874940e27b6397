"""Transfer reads: units on the road. Callers import the module
(``from omnimall.inventory.selectors import transfers``).

Dispatched units have left their source's ``on_hand`` and reach the destination's only on
receipt; these selectors account for them in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Sum

from omnimall.inventory.models import TransferLine, TransferState


@dataclass(frozen=True, slots=True)
class InTransitUnits:
    """Units of one SKU travelling to one location (summed over its open transfers)."""

    sku_id: int
    location_id: int  # the destination
    quantity: int


def list_in_transit(
    *, sku_ids: Iterable[int] | None = None, location_id: int | None = None
) -> list[InTransitUnits]:
    """Units in transit per (SKU, destination), by SKU then location, in one query.

    ``sku_ids`` and ``location_id`` (a destination) narrow the result when given.
    """
    lines = TransferLine.objects.filter(transfer__state=TransferState.IN_TRANSIT)
    if sku_ids is not None:
        lines = lines.filter(sku_id__in=list(sku_ids))
    if location_id is not None:
        lines = lines.filter(transfer__destination_id=location_id)
    rows = (
        lines.order_by()
        .values_list("sku_id", "transfer__destination_id")
        .annotate(total=Sum("quantity"))
        .order_by("sku_id", "transfer__destination_id")
    )
    return [
        InTransitUnits(sku_id=sku_id, location_id=destination_id, quantity=total)
        for sku_id, destination_id, total in rows
    ]


def in_transit_by_sku(*, sku_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Units in transit per SKU, over every destination."""
    totals: dict[int, int] = {}
    for row in list_in_transit(sku_ids=sku_ids):
        totals[row.sku_id] = totals.get(row.sku_id, 0) + row.quantity
    return totals
