"""Settling payments: a gateway notification (or a status query) marks an order paid.

``settle_notification`` runs the payments app's verification and ledger write and the
order's move to ``paid`` in ONE transaction: either both happen or neither, so a crash
between them is impossible and a repeated notification finds the capture already posted
(``duplicate``) and changes nothing. The slow part (allocating the order to locations,
fulfilment requests) runs after COMMIT in the Celery task ``orders.allocate_paid_orders``
(woken, not queued per payment: it takes every paid order waiting), or inline when no
broker is configured. The paid email and webhooks go out through the outbox.

A capture for an order that was cancelled meanwhile (paid after its hold expired) is
kept (the money is real), noted as a problem and refunded in full automatically.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext_noop

from omnimall.core import clock, sql, wakeups
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.inventory import services as inventory
from omnimall.orders import domain
from omnimall.orders.errors import (
    OrderAlreadyPaidError,
    OrderTransitionError,
    PaymentHoldExpiredError,
)
from omnimall.orders.models import (
    DeliveryMethod,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderEventKind,
    OrderLine,
)
from omnimall.orders.texts import text
from omnimall.payments import selectors as payment_selectors
from omnimall.payments import services as payments

from . import messages
from . import points as order_points
from .placement import payment_subject
from .timeline import add_event, lock_order, new_event, transition

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("payments")
HOLD_AFTER_PAYMENT_DAYS = 14  # on top of PICKUP_UNCOLLECTED_DAYS: time to ship or prepare
PICKUP_CODE_STATES = (domain.PAID, domain.ALLOCATED, domain.READY_FOR_PICKUP)
ALLOCATE_TASK = "orders.allocate_paid_orders"


def settle_notification(
    *, gateway: str, params: Mapping[str, str], remote_addr: str | None
) -> bool:
    """Record one asynchronous notification and, on a new capture, mark the order paid.

    True when the notification was processed (accepted, duplicate or ignored: the gateway
    must stop repeating it), False when it was rejected (bad signature, amount, merchant).
    """
    with transaction.atomic():
        result = payments.record_notification(
            gateway=gateway, params=params, remote_addr=remote_addr
        )
        if result.outcome == "rejected":
            return False
        if result.newly_captured and result.order_id is not None:
            mark_paid(order_id=result.order_id, payment_id=result.payment_id, amount=result.amount)
    return True


def settle_from_query(*, payment_id: int, order_id: int) -> bool:
    """Ask the gateway about a payment whose notification never came; True if it was paid
    (and the order is now marked paid)."""
    with transaction.atomic():
        captured = payments.capture_from_query(payment_id=payment_id)
        if captured:
            mark_paid(order_id=order_id, payment_id=payment_id)
    return captured


def close_open_payments(order: Order) -> bool:
    """Close the order's open gateway payments; True if one turned out paid (settled).

    No network call happens under the order lock: callers ask the gateway first.
    """
    for payment_id in payment_selectors.list_pending_payment_ids(order.pk):
        if payments.close_payment(payment_id=payment_id):
            continue
        settle_from_query(payment_id=payment_id, order_id=order.pk)
        return True
    return False


def restart_payment(*, order_id: int, notify_url: str, return_url: str) -> str:
    """A fresh gateway payment for an unpaid order (the last one was declined or left
    open); returns the gateway page to send the shopper to.

    Any payment still open is closed first, so at most one can be paid; if the gateway
    says one already was, the order is settled and this is refused (409 ``order_paid``).
    Only while the stock is still held for the order (409 ``hold_expired`` after).
    """
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.state != domain.PENDING_PAYMENT:
        raise OrderTransitionError(
            "Only an unpaid order can be paid again.",
            number=getattr(order, "number", ""),
            state=getattr(order, "state", ""),
        )
    if close_open_payments(order):
        raise OrderAlreadyPaidError(number=order.number, state=domain.PAID)
    with transaction.atomic():
        order = lock_order(order_id)
        if order.state != domain.PENDING_PAYMENT:
            raise OrderTransitionError(number=order.number, state=order.state)
        if order.reserved_until is None or order.reserved_until <= clock.now():
            raise PaymentHoldExpiredError(number=order.number)
        started = payments.start_payment(
            order_id=order.pk,
            amount=order.total - order.points_value,
            currency=order.currency,
            subject=payment_subject(order.number),
            notify_url=notify_url,
            return_url=return_url,
        )
        add_event(
            order,
            kind=OrderEventKind.PAYMENT,
            message=gettext_noop("payment started again"),
            data={"payment_id": started.payment_id},
        )
    return started.payment_url


def _pickup_code() -> str:
    """6 digits not used by another open pick-up (a few tries; the space is a million)."""
    code = ""
    for _ in range(10):
        code = f"{secrets.randbelow(10**6):06d}"
        if not Order.objects.filter(pickup_code=code, state__in=PICKUP_CODE_STATES).exists():
            return code
    return code


def mark_paid(*, order_id: int, payment_id: int | None, amount: Decimal | None = None) -> None:
    """The order's payment was captured (inside the capture's transaction)."""
    order = lock_order(order_id)
    if order.state == domain.CANCELLED:
        _paid_after_cancel(
            order, payment_id=payment_id, amount=amount or (order.total - order.points_value)
        )
        return
    if order.state != domain.PENDING_PAYMENT:
        # A second capture for an order already paid (two payment attempts both went
        # through): staff refund one of them.
        order.needs_attention = True
        order.save(update_fields=["needs_attention", "updated_at"])
        add_event(
            order,
            kind=OrderEventKind.PROBLEM,
            message=gettext_noop(
                "A further payment was captured for an order already paid; refund it."
            ),
            data={"payment_id": payment_id},
        )
        return
    now = clock.now()
    order.amount_paid = amount or (order.total - order.points_value)
    order.paid_at = now
    fields: tuple[str, ...] = ("amount_paid", "paid_at")
    if order.delivery_method == DeliveryMethod.PICKUP:
        order.pickup_code = _pickup_code()
        fields = (*fields, "pickup_code")
    # The timeline events of this change go in one insert at the end (in this order),
    # unless something in between writes its own (points, for a member's order).
    events = [
        transition(
            order,
            domain.PAID,
            actor=SYSTEM,
            message=gettext_noop("payment captured"),
            data={"payment_id": payment_id, "amount": str(order.amount_paid)},
            extra_fields=fields,
            save_event=False,
        )
    ]
    # One query gives both the lines (for the webhook) and the holds to extend.
    allocations = _allocations_with_lines(order)
    lines = list({row.line_id: row.line for row in allocations}.values())
    lapsed = _extend_holds(
        order,
        reservation_ids=[r.reservation_id for r in allocations if r.is_live and r.reservation_id],
        now=now,
    )
    if lapsed is not None:
        events.append(lapsed)
    if order.points_used > 0 or order.user_id is not None:
        # settle_paid may add events of its own (it does nothing for a guest without
        # points): ours go first, as they happened first.
        _save_events(events)
    # Points: the hold committed, points earned (pending) on the money part, the purchase.
    order_points.settle_paid(order, lines=lines)
    messages.publish_order_event(order, topic="order.paid", lines=lines)
    email = messages.queue_email(order, template="paid", lines=lines)
    if email is not None:
        events.append(email)
    _save_events(events)
    transaction.on_commit(partial(schedule_allocation, order.pk), robust=True)


def _allocations_with_lines(order: Order) -> list[OrderAllocation]:
    """The order's allocations (live or not) with their lines, by line then id.

    Hand-written (hot path: every payment): what
    ``OrderAllocation.objects.filter(line__order=order).select_related("line")
    .order_by("line_id", "pk")`` gives, without compiling the queryset each time.
    """
    with connection.cursor() as cursor:
        cursor.execute(_allocations_sql(connection.vendor), [order.pk])
        found = cursor.fetchall()
    width = len(OrderAllocation._meta.concrete_fields)
    allocations = sql.instances(OrderAllocation, [row[:width] for row in found])
    lines = sql.instances(OrderLine, [row[width:] for row in found])
    by_id: dict[int, OrderLine] = {}
    for allocation, line in zip(allocations, lines, strict=True):
        line = by_id.setdefault(line.pk, line)
        line.order = order
        allocation.line = line
    return allocations


@functools.cache
def _allocations_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    alloc, line = OrderAllocation._meta, OrderLine._meta
    a_line = qn(str(alloc.get_field("line").column))
    l_order = qn(str(line.get_field("order").column))
    return (
        f"SELECT {sql.select_list(OrderAllocation, 'a')}, {sql.select_list(OrderLine, 'l')} "  # noqa: S608
        f"FROM {qn(alloc.db_table)} a INNER JOIN {qn(line.db_table)} l "
        f"ON l.{qn(str(line.pk.column))} = a.{a_line} "
        f"WHERE l.{l_order} = %s ORDER BY a.{a_line}, a.{qn(str(alloc.pk.column))}"
    )


def _save_events(events: list[OrderEvent]) -> None:
    """Insert the unsaved ``events`` in one statement, in their order; empties the list."""
    if events:
        sql.insert(events)  # bulk_create's statement, not compiled each time
        events.clear()


def _extend_holds(order: Order, *, reservation_ids: list[int], now: datetime) -> OrderEvent | None:
    """Extend the order's holds; the (unsaved) timeline event when some had lapsed."""
    days = settings.PICKUP_UNCOLLECTED_DAYS + HOLD_AFTER_PAYMENT_DAYS
    extended = inventory.extend_holds(
        reservation_ids=reservation_ids, until=now + timedelta(days=days), now=now
    )
    if extended < len(reservation_ids):
        # Allocation holds the missing units anew (or flags the order).
        return new_event(
            order,
            kind=OrderEventKind.FULFILMENT,
            message=gettext_noop("Some stock holds had lapsed before payment; holding anew."),
            data={"asked": len(reservation_ids), "extended": extended},
        )
    return None


def schedule_allocation(order_id: int) -> None:
    """Allocate the order now (no broker: inline), else wake the worker's
    ``orders.allocate_paid_orders``, which moves on every order waiting to be allocated
    (``core.wakeups``: one waiting wake-up serves many payments)."""
    from celery import current_app

    if not current_app.conf.task_always_eager:
        wakeups.wake(ALLOCATE_TASK)
        return
    from . import fulfilment

    try:
        fulfilment.allocate_order(order_id=order_id)
    except Exception:  # the payment has committed: the sweep retries the allocation
        logger.exception("allocating order %s failed", order_id)


def _paid_after_cancel(order: Order, *, payment_id: int | None, amount: Decimal) -> None:
    """Money arrived for a cancelled order: keep it on the books, refund it in full."""
    from . import refunds

    order.amount_paid = order.amount_paid + amount
    order.needs_attention = True
    order.save(update_fields=["amount_paid", "needs_attention", "updated_at"])
    add_event(
        order,
        kind=OrderEventKind.PROBLEM,
        message=gettext_noop(
            "Payment arrived after the order was cancelled; refunding it in full."
        ),
        data={"payment_id": payment_id, "amount": str(amount)},
    )
    try:
        with transaction.atomic():
            refunds.refund_order(
                order_id=order.pk,
                amount=amount,
                reason=text(gettext_noop("paid after the order was cancelled")),
                actor=SYSTEM,
                refund_no=f"{order.number}-late-{payment_id or 0}",
            )
    except DomainError as refused:
        logger.warning("automatic refund of order %s refused: %s", order.number, refused)
        add_event(
            order,
            kind=OrderEventKind.PROBLEM,
            message=text(
                gettext_noop("The automatic refund failed (%(error)s); refund it by hand."),
                error=refused.message,
            ),
            data={"payment_id": payment_id},
        )


def amount_outstanding(order: Order) -> Decimal:
    return max(order.amount_paid - order.amount_refunded, Decimal("0.00"))
