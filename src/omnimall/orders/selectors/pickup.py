"""Reads for the pick-up desk: the order awaiting pick-up under a code, and what waits on
the stores' shelves."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from omnimall.inventory.domain import BasketLine
from omnimall.inventory.selectors import allocation as allocation_selectors
from omnimall.orders import domain
from omnimall.orders.models import DeliveryMethod, Order

from .orders import OrderLineView, OrderView, display_number, order_line_view


@dataclass(frozen=True, slots=True)
class PickupView:
    order_id: int
    number: str
    display_number: str
    state: str
    contact_name: str
    phone: str
    store_id: int
    store_name: str
    ready_at: datetime | None
    collect_by: datetime | None  # cancelled if not collected by then
    collector_name: str  # someone the shopper sent instead; "" when they come themselves
    collector_phone: str
    pickup_code: str
    lines: tuple[OrderLineView, ...]


@dataclass(frozen=True, slots=True)
class ShelfRow:
    """A pick-up put aside at a store, waiting for its shopper (or their collector)."""

    order_id: int
    number: str
    display_number: str
    store_name: str
    contact_name: str
    phone: str
    collector_name: str
    ready_at: datetime | None
    collect_by: datetime | None
    kept_longer: bool  # the shopper asked for more days
    items: int


SHELF_LIMIT = 200  # a store's shelf holds far fewer; the oldest deadlines come first


def list_waiting_pickups(*, store_ids: Iterable[int] | None) -> list[ShelfRow]:
    """The pick-ups waiting at ``store_ids`` (None: every store), the nearest deadline
    first: what is on the shelf, and whom to call before the sweep cancels it. Two
    statements (the orders, their lines)."""
    rows = Order.objects.filter(
        state=domain.READY_FOR_PICKUP, delivery_method=DeliveryMethod.PICKUP
    ).select_related("pickup_store")
    if store_ids is not None:
        rows = rows.filter(pickup_store_id__in=list(store_ids))
    waiting = rows.prefetch_related("lines").order_by("collect_by", "pk")[:SHELF_LIMIT]
    return [
        ShelfRow(
            order_id=order.pk,
            number=order.number,
            display_number=display_number(order.number),
            store_name=(order.pickup_store.name_zh or order.pickup_store.name_en)
            if order.pickup_store
            else "",
            contact_name=order.contact_name,
            phone=order.phone,
            collector_name=order.collector_name,
            ready_at=order.ready_at,
            collect_by=order.collect_by,
            kept_longer=order.pickup_extended_at is not None,
            items=sum(line.quantity for line in order.lines.all()),
        )
        for order in waiting
    ]


def find_pickup(*, store_ids: Iterable[int] | None, code: str) -> PickupView | None:
    """The order awaiting pick-up under ``code`` at one of ``store_ids`` (None: any)."""
    cleaned = "".join(str(code or "").split())[:8]
    if not cleaned:
        return None
    rows = Order.objects.filter(
        pickup_code=cleaned,
        delivery_method=DeliveryMethod.PICKUP,
        state__in=(domain.READY_FOR_PICKUP, domain.ALLOCATED, domain.PAID),
    ).select_related("pickup_store")
    if store_ids is not None:
        rows = rows.filter(pickup_store_id__in=list(store_ids))
    order = rows.prefetch_related("lines").order_by("-pk").first()
    if order is None or order.pickup_store is None:
        return None
    return PickupView(
        order_id=order.pk,
        number=order.number,
        display_number=display_number(order.number),
        state=order.state,
        contact_name=order.contact_name,
        phone=order.phone,
        store_id=order.pickup_store_id or 0,
        store_name=f"{order.pickup_store.name_en} {order.pickup_store.name_zh}",
        ready_at=order.ready_at,
        collect_by=order.collect_by,
        collector_name=order.collector_name,
        collector_phone=order.collector_phone,
        pickup_code=order.pickup_code,
        lines=tuple(order_line_view(line) for line in order.lines.all()),
    )


def list_other_pickup_stores(
    order: OrderView, *, city: str | None = None
) -> list[allocation_selectors.PickupStore]:
    """The stores the pick-up ``order`` could move to: those that hold all of it now, but
    its own; nearest to ``city`` first, else to its present store (the shopper chose it,
    so they are near it). The order's own holds are at its present store, which is not
    offered: they take nothing from the stores that are."""
    units: dict[int, int] = {}
    for line in order.lines:
        units[line.sku_id] = units.get(line.sku_id, 0) + line.quantity
    lines = [BasketLine(sku_id=sku_id, quantity=quantity) for sku_id, quantity in units.items()]
    present = order.pickup_store
    stores = allocation_selectors.list_pickup_stores(
        lines=lines,
        city=city or (present.city if present else None),
        channel_code=order.channel_code,
    )
    return [s for s in stores if present is None or s.store.location_id != present.id]
