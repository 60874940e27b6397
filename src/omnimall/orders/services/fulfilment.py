"""After payment: allocation to locations, fulfilment requests, shipments, delivery.

``allocate_order`` (run for each paid order by the task ``orders.allocate_paid_orders``,
woken after payments commit) turns the order's live allocations into one inventory
fulfilment request per location.
The inventory app then tells us (``inventory.events``, handled in ``orders.handlers``):

* ``FulfilmentAccepted`` — for a pick-up request, the store has put the goods aside:
  the order is ``ready_for_pickup`` and the shopper gets an email with the code. For a
  delivery request it is only noted on the timeline (``pickup.on_fulfilment_accepted``).
* ``FulfilmentRejected`` — the location cannot serve its lines: they are allocated
  elsewhere (never to a location that rejected them) with new holds and a new request;
  if nowhere can, the order needs attention (staff decide: wait, or cancel and refund).
* ``FulfilmentShipped`` — lines left: ``partially_shipped`` / ``shipped`` (or, for a
  pick-up request, handed over: ``picked_up``).

``confirm_delivery`` (WMS/carrier API, or staff) moves a shipped order to ``delivered``.
Lock order everywhere: the order row first, then inventory's (request, levels, holds).
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext_noop

from omnimall.core import audit, clock, sql
from omnimall.core.actors import Actor
from omnimall.core.errors import ValidationFailedError
from omnimall.inventory import services as inventory
from omnimall.inventory.domain import BasketLine
from omnimall.inventory.errors import InsufficientStockError, StockLocationNotFoundError
from omnimall.inventory.models import (
    FulfilmentLine,
    FulfilmentState,
    Reservation,
    ReservationState,
)
from omnimall.inventory.selectors import allocation as allocation_selectors
from omnimall.inventory.selectors import carriers
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders import domain
from omnimall.orders.delivery_time import delivery_days, expected_window
from omnimall.orders.errors import OrderTransitionError
from omnimall.orders.models import (
    DeliveryMethod,
    Order,
    OrderAllocation,
    OrderEventKind,
    OrderLine,
)
from omnimall.orders.texts import Text, text

from . import messages, texts_to_shoppers
from .holds import hold_units, spread_units
from .payment import HOLD_AFTER_PAYMENT_DAYS
from .timeline import add_event, lock_order, transition

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("fulfilment")
LIVE_REQUEST_STATES = (FulfilmentState.OPEN, FulfilmentState.ACCEPTED)
DELIVERED_OR_LATER = frozenset(
    {domain.DELIVERED, domain.COMPLETED, domain.RETURNED, domain.PARTLY_REFUNDED, domain.REFUNDED}
)


def _hold_for() -> timedelta:
    return timedelta(days=settings.PICKUP_UNCOLLECTED_DAYS + HOLD_AFTER_PAYMENT_DAYS)


def _live_allocations(order: Order) -> list[OrderAllocation]:
    """The order's live allocations by id, with their lines and reservations.

    Hand-written (hot path: every paid order's allocation): what
    ``filter(line__order=order, is_live=True).select_related("line", "reservation")
    .order_by("pk")`` gives, without compiling the queryset each time.
    """
    with connection.cursor() as cursor:
        cursor.execute(_live_sql(connection.vendor), [order.pk, True])
        found = cursor.fetchall()
    a_width = len(OrderAllocation._meta.concrete_fields)
    l_width = len(OrderLine._meta.concrete_fields)
    allocations = sql.instances(OrderAllocation, [r[:a_width] for r in found])
    lines = sql.instances(OrderLine, [r[a_width : a_width + l_width] for r in found])
    held = [r[a_width + l_width :] for r in found]
    for allocation, line, reservation in zip(allocations, lines, held, strict=True):
        allocation.line = line
        allocation.reservation = (
            sql.instances(Reservation, [reservation])[0] if reservation[0] is not None else None
        )
    return allocations


@functools.cache
def _live_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    alloc, line, res = OrderAllocation._meta, OrderLine._meta, Reservation._meta

    def col(meta: Any, name: str) -> str:
        return str(qn(str(meta.get_field(name).column)))

    return (
        f"SELECT {sql.select_list(OrderAllocation, 'a')}, {sql.select_list(OrderLine, 'l')}, "  # noqa: S608
        f"{sql.select_list(Reservation, 'r')} "
        f"FROM {qn(alloc.db_table)} a "
        f"INNER JOIN {qn(line.db_table)} l ON l.{col(line, 'id')} = a.{col(alloc, 'line')} "
        f"LEFT OUTER JOIN {qn(res.db_table)} r "
        f"ON r.{col(res, 'id')} = a.{col(alloc, 'reservation')} "
        f"WHERE l.{col(line, 'order')} = %s AND a.{col(alloc, 'is_live')} = %s "
        f"ORDER BY a.{col(alloc, 'id')}"
    )


@functools.cache
def _link_sql(vendor: str, count: int) -> str:
    """Each allocation's fulfilment line: the one serving its reservation (by request, id),
    as the ORM's ``update(fulfilment_line=Subquery(…))`` wrote it, by hand."""
    qn = connection.ops.quote_name
    alloc, fline = OrderAllocation._meta, FulfilmentLine._meta
    a_res = qn(str(alloc.get_field("reservation").column))
    return (
        f"UPDATE {qn(alloc.db_table)} SET {qn(str(alloc.get_field('fulfilment_line').column))} = "  # noqa: S608
        f"(SELECT f.{qn(str(fline.pk.column))} FROM {qn(fline.db_table)} f "
        f"WHERE f.{qn(str(fline.get_field('reservation').column))} = {qn(alloc.db_table)}.{a_res} "
        f"ORDER BY f.{qn(str(fline.get_field('request').column))}, f.{qn(str(fline.pk.column))} "
        f"LIMIT 1) WHERE {qn(str(alloc.pk.column))} IN ({', '.join(['%s'] * count)})"
    )


def _order_id_by_number(number: str) -> int | None:
    return Order.objects.filter(number=number).values_list("pk", flat=True).first()


def _flag(order: Order, message: str | Text, **data: object) -> None:
    """Something staff must decide: flag the order and say why on the timeline."""
    if not order.needs_attention:
        order.needs_attention = True
        order.save(update_fields=["needs_attention", "updated_at"])
    add_event(order, kind=OrderEventKind.PROBLEM, message=message, data=dict(data))


def hold_elsewhere(
    order: Order,
    units: dict[int, int],
    *,
    exclude: Iterable[int] = (),
    hold_for: timedelta | None = None,
) -> list[OrderAllocation]:
    """Plan and hold ``{line_id: units}`` anew (a pick-up: at ``order.pickup_store_id``),
    for ``hold_for`` (default: as long as a paid order's holds last); the new allocations.

    Raises ``InsufficientStockError`` / ``StockLocationNotFoundError`` when nowhere can.
    """
    lines = {line.pk: line for line in order.lines.filter(pk__in=list(units))}
    per_sku: dict[int, int] = defaultdict(int)
    for line_id, quantity in units.items():
        per_sku[lines[line_id].sku_id] += quantity
    plan = allocation_selectors.plan_allocation(
        lines=[BasketLine(sku_id, quantity) for sku_id, quantity in per_sku.items()],
        method=order.delivery_method,
        city=(order.ship_to or {}).get("city") or None,
        store_id=order.pickup_store_id,
        channel_code=order.channel_code,
        exclude_location_ids=list(exclude),
    )
    if plan.shortages:
        raise InsufficientStockError(plan.shortages)
    allocated = plan.allocated()
    held = hold_units(order, allocated, hold_for=hold_for or _hold_for())
    needs = [(lines[line_id], need) for line_id, need in units.items()]
    return OrderAllocation.objects.bulk_create(spread_units(needs, allocated, held))


def request_fulfilment(order: Order, allocations: Sequence[OrderAllocation]) -> list[str]:
    """One fulfilment request per location for ``allocations``; links them; the numbers."""
    by_location: dict[int, dict[int, list[OrderAllocation]]] = defaultdict(dict)
    for row in allocations:
        by_location[row.location_id].setdefault(row.reservation_id or 0, []).append(row)
    if order.delivery_method == DeliveryMethod.PICKUP:
        method, ship_to = "pickup", {"name": order.contact_name, "phone": order.phone}
    else:
        method, ship_to = "ship", dict(order.ship_to or {})
    numbers = []
    for location_id, held in by_location.items():
        request = inventory_fulfilment.create_fulfilment_request(
            location_id=location_id,
            reference=f"order {order.number}",
            lines=[
                (rows[0].line.sku_id, sum(r.quantity for r in rows), reservation_id or None)
                for reservation_id, rows in held.items()
            ],
            method=method,
            ship_to=ship_to,
            note=order.shopper_note,
            owner_type="order",
            owner_id=order.number,
            actor=SYSTEM,
        )
        numbers.append(request.number)
    ids = [row.pk for row in allocations]
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(_link_sql(connection.vendor, len(ids)), ids)
    return numbers


def allocate_order(*, order_id: int) -> bool:
    """A paid order's live holds become fulfilment requests (``paid`` → ``allocated``).

    Holds that lapsed before payment are held anew where stock allows; if it does not,
    the order stays ``paid`` and needs attention. Running it again changes nothing.
    True when the order moved on.
    """
    with transaction.atomic():
        order = lock_order(order_id)
        if order.state != domain.PAID:
            return False
        now = clock.now()
        live = _live_allocations(order)
        lapsed = [
            row
            for row in live
            if row.reservation is None
            or row.reservation.state != ReservationState.HELD
            or row.reservation.expires_at <= now
        ]
        if lapsed:
            for reservation_id in sorted({r.reservation_id for r in lapsed if r.reservation_id}):
                inventory.release_reservation(reservation_id=reservation_id)
            OrderAllocation.objects.filter(pk__in=[r.pk for r in lapsed]).update(is_live=False)
            units: dict[int, int] = defaultdict(int)
            for row in lapsed:
                units[row.line_id] += row.quantity
            try:
                with transaction.atomic():
                    renewed = hold_elsewhere(order, dict(units))
            except (InsufficientStockError, StockLocationNotFoundError, ValidationFailedError):
                _flag(
                    order,
                    gettext_noop("Stock held for this order lapsed and cannot be held again."),
                )
                return False
            lapsed_ids = {r.pk for r in lapsed}
            live = [r for r in live if r.pk not in lapsed_ids] + renewed
        if not live:  # nothing held (an earlier run let it go): staff decide
            _flag(order, gettext_noop("Nothing is held for this order to allocate."))
            return False
        numbers = request_fulfilment(order, live)
        transition(
            order,
            domain.ALLOCATED,
            actor=SYSTEM,
            message=text(gettext_noop("sent to %(requests)s"), requests=", ".join(numbers)),
            data={"requests": numbers},
        )
    return True


# Paid longer ago than this, an order waiting for its allocation is "stuck": the sweep's,
# no longer the drain's (so an order whose allocation keeps failing is retried every few
# minutes, not on every payment's wake-up).
STUCK_AFTER = timedelta(minutes=5)


def allocate_paid_orders(*, batch: int = 100) -> int:
    """Allocate the orders paid in the last ``STUCK_AFTER`` and waiting, oldest payment
    first, each in its own transaction, batch after batch until none is left (however
    many a burst of payments left): the worker's run after payments commit. Returns how
    many moved on."""
    return _allocate_waiting(since=clock.now() - STUCK_AFTER, batch=batch)


def allocate_stuck_orders(*, older_than: timedelta = STUCK_AFTER, limit: int = 100) -> int:
    """Paid orders whose allocation never ran (a worker died, an error): allocate them.

    Orders flagged as needing attention are left to staff. Returns how many moved on.
    """
    return _allocate_waiting(until=clock.now() - older_than, batch=limit, batches=1)


def _allocate_waiting(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int,
    batches: int | None = None,
) -> int:
    """Allocate the waiting orders paid after ``since`` / up to ``until``, ``batch`` ids per
    read, resuming after the last one read (an order whose allocation fails is not read
    again in this run)."""
    moved = 0
    after: tuple[Any, int] | None = None
    while batches is None or batches > 0:
        if batches is not None:
            batches -= 1
        due = _waiting_page(since=since, until=until, after=after, size=batch)
        for _paid_at, order_id in due:
            try:
                moved += allocate_order(order_id=order_id)
            except Exception:
                logger.exception("allocating order %s failed", order_id)
        if len(due) < batch:
            break
        after = due[-1]
    return moved


def _waiting_page(
    *,
    since: datetime | None,
    until: datetime | None,
    after: tuple[Any, int] | None,
    size: int,
) -> list[tuple[Any, int]]:
    """(paid_at as stored, id) of up to ``size`` waiting orders, oldest payment first,
    after the ``after`` row. ``filter(state=paid, needs_attention=False, …).order_by(
    "paid_at", "pk")`` by hand: run after every payment, and with the state and the flag
    written as literals PostgreSQL can plan it once, on the partial index
    ``order_paid_waiting`` (bound, they made it plan again on every run)."""
    field = Order._meta.get_field("paid_at")
    bounds = [b for b in (since, until) if b is not None]
    params: list[Any] = [field.get_db_prep_value(b, connection) for b in bounds]
    if after is not None:
        params += [after[0], after[0], after[1]]
    statement = _waiting_sql(
        connection.vendor, since is not None, until is not None, after is not None
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, size])
        return [(paid_at, order_id) for paid_at, order_id in cursor.fetchall()]


@functools.cache
def _waiting_sql(vendor: str, since: bool, until: bool, after: bool) -> str:
    qn = connection.ops.quote_name
    meta: Any = Order._meta

    def col(name: str) -> str:
        return str(qn(str(meta.get_field(name).column)))

    paid_at, pk = col("paid_at"), col("id")
    where = [f"{col('state')} = {sql.literal(domain.PAID)}", f"NOT {col('needs_attention')}"]
    if since:
        where.append(f"{paid_at} > %s")
    if until:
        where.append(f"{paid_at} <= %s")
    if after:
        where.append(f"({paid_at} > %s OR ({paid_at} = %s AND {pk} > %s))")
    return (
        f"SELECT {paid_at}, {pk} FROM {qn(meta.db_table)} "  # noqa: S608
        f"WHERE {' AND '.join(where)} ORDER BY {paid_at}, {pk} LIMIT %s"
    )


def locked_order_of(owner_type: str, owner_id: str) -> Order | None:
    if owner_type != "order":
        return None
    order_id = _order_id_by_number(owner_id)
    return None if order_id is None else lock_order(order_id)


def on_fulfilment_rejected(
    *, request_id: int, location_id: int, owner_type: str, owner_id: str, reason: str
) -> None:
    """Allocate the rejected lines elsewhere, or flag the order when nowhere can."""
    with transaction.atomic():
        order = locked_order_of(owner_type, owner_id)
        if order is None:
            return
        affected = list(
            OrderAllocation.objects.filter(
                line__order=order, is_live=True, fulfilment_line__request_id=request_id
            )
        )
        add_event(
            order,
            kind=OrderEventKind.FULFILMENT,
            message=text(gettext_noop("fulfilment request rejected: %(reason)s"), reason=reason),
            data={"request_id": request_id, "location_id": location_id},
        )
        if not affected:
            return
        OrderAllocation.objects.filter(pk__in=[r.pk for r in affected]).update(is_live=False)
        if order.state not in (domain.ALLOCATED, domain.PARTIALLY_SHIPPED):
            return
        rejected_before = set(
            OrderAllocation.objects.filter(
                line__order=order,
                is_live=False,
                fulfilment_line__request__state=FulfilmentState.REJECTED,
            ).values_list("location_id", flat=True)
        )
        units: dict[int, int] = defaultdict(int)
        for row in affected:
            units[row.line_id] += row.quantity
        try:
            with transaction.atomic():
                renewed = hold_elsewhere(
                    order, dict(units), exclude=rejected_before | {location_id}
                )
                numbers = request_fulfilment(order, renewed)
        except (InsufficientStockError, StockLocationNotFoundError, ValidationFailedError):
            _flag(
                order,
                gettext_noop("A location rejected its lines and no other location can serve them."),
                request_id=request_id,
                location_id=location_id,
            )
            if order.delivery_method == DeliveryMethod.PICKUP:
                # The shopper chose the store: they choose another, or cancel for a refund.
                link = messages.store_change_link(order)
                messages.email_shopper(
                    order,
                    template="pickup_store_refused",
                    dedupe_suffix=str(request_id),
                    extra={"store_link": link},
                )
                texts_to_shoppers.text_shopper(
                    order,
                    moment="pickup_store_refused",
                    extra={"link": link},
                    dedupe_suffix=str(request_id),
                )
            return
        transition(
            order,
            order.state,
            actor=SYSTEM,
            message=text(gettext_noop("re-allocated to %(requests)s"), requests=", ".join(numbers)),
            data={"requests": numbers, "rejected_request_id": request_id},
        )


def on_fulfilment_shipped(
    *, request_id: int, shipment_id: int, owner_type: str, owner_id: str
) -> None:
    """Lines left a location: shipped / partially shipped, or handed over (pick-up)."""
    with transaction.atomic():
        order = locked_order_of(owner_type, owner_id)
        if order is None:
            return
        if order.delivery_method == DeliveryMethod.PICKUP:
            from .pickup import handed_over  # pickup builds on this module

            handed_over(order, actor=SYSTEM)
            return
        shipment = (
            OrderAllocation.objects.filter(
                line__order=order, fulfilment_line__shipment_id=shipment_id
            )
            .values_list(
                "fulfilment_line__shipment__carrier",
                "fulfilment_line__shipment__tracking_number",
                "fulfilment_line__shipment__shipped_at",
            )
            .first()
        )
        carrier, tracking, shipped_at = shipment if shipment is not None else ("", "", None)
        add_event(
            order,
            kind=OrderEventKind.FULFILMENT,
            message=text(
                gettext_noop("shipped with %(carrier)s %(tracking)s"),
                carrier=carrier,
                tracking=tracking,
            ),
            data={"shipment_id": shipment_id, "carrier": carrier, "tracking_number": tracking},
        )
        live = list(
            OrderAllocation.objects.filter(line__order=order, is_live=True).values_list(
                "quantity", "fulfilment_line__shipment_id"
            )
        )
        target = domain.shipping_state(
            lines_total=sum(q for q, _ in live),
            lines_shipped=sum(q for q, shipped in live if shipped is not None),
        )
        if target == domain.ALLOCATED or not domain.can_transition(order.state, target):
            return
        transition(order, target, actor=SYSTEM, data={"shipment_id": shipment_id})
        label = carriers.label_for(carrier, tracking, carriers.carrier_index())
        expected = expected_window(shipped_at or clock.now(), delivery_days(order))
        messages.email_shopper(
            order,
            template="shipped",
            dedupe_suffix=str(shipment_id),
            extra={
                "carrier": label.name_en,
                "carrier_zh": label.name_zh if label.name_zh != label.name_en else "",
                "tracking_number": tracking,
                "tracking_url": label.tracking_url,
                "complete": target == domain.SHIPPED,
                # Strings, so "send the last email again" says the same.
                "expected_from": str(expected[0]) if expected else "",
                "expected_to": str(expected[1]) if expected else "",
            },
        )
        texts_to_shoppers.text_shopper(
            order,
            moment="shipped",
            extra={"carrier": label.name_zh or label.name_en, "tracking": tracking},
            dedupe_suffix=str(shipment_id),
        )
        messages.publish_order_event(order, topic="order.shipped", n=str(shipment_id))


def confirm_delivery(
    *, order_id: int, actor: Actor, note: str = "", message: str | Text = ""
) -> Order:
    """The parcel arrived (carrier/WMS or staff; the shopper, or the sweep, through
    ``receipt``): ``shipped`` → ``delivered``. ``note``: what the carrier typed;
    ``message``: the timeline text instead of "delivered".

    Confirming a delivered order again changes nothing (the integration may retry).
    """
    with transaction.atomic():
        order = lock_order(order_id)
        if order.state in DELIVERED_OR_LATER:
            return order
        if order.state != domain.SHIPPED:
            raise OrderTransitionError(
                "Only a shipped order can be delivered.",
                number=order.number,
                state=order.state,
                target=domain.DELIVERED,
            )
        typed = (note or "").strip()[:200]
        if not message:
            message = (
                text(gettext_noop("delivered: %(note)s"), note=typed)
                if typed
                else gettext_noop("delivered")
            )
        transition(order, domain.DELIVERED, actor=actor, message=message)
        audit.record(actor=actor, action="order.delivered", subject=order)
        messages.publish_order_event(order, topic="order.delivered")
    return order


def release_holds(order: Order, *, actor: Actor, reason: str) -> None:
    """Withdraw the order's live requests and release its other holds: nothing of it is
    held any more (its allocations are no longer live)."""
    for request_id in live_requests(order):
        inventory_fulfilment.cancel_fulfilment_request(
            request_id=request_id, actor=actor, reason=reason
        )
    held = sorted(
        set(
            OrderAllocation.objects.filter(
                line__order=order,
                is_live=True,
                fulfilment_line__isnull=True,
                reservation__isnull=False,
            ).values_list("reservation_id", flat=True)
        )
    )
    for reservation_id in held:
        inventory.release_reservation(reservation_id=reservation_id)
    OrderAllocation.objects.filter(line__order=order, is_live=True).update(is_live=False)


def live_requests(order: Order) -> list[int]:
    """Ids of the order's fulfilment requests still open or accepted."""
    return sorted(
        set(
            OrderAllocation.objects.filter(
                line__order=order,
                is_live=True,
                fulfilment_line__request__state__in=LIVE_REQUEST_STATES,
            ).values_list("fulfilment_line__request_id", flat=True)
        )
    )
