"""Orders that need attention, dealt with by staff.

The shop flags an order it cannot carry on with by itself (``needs_attention``, with a
problem on its timeline): held stock lapsed before payment and none could be held again,
a location refused lines and no other can serve them, a second payment or a payment for a
cancelled order came in, points were short at payment. The flag keeps the order on the
back office's "waiting for you" list, and a paid order out of the allocation sweep,
until staff deal with it:

* ``allocate_again`` — stock arrived (or a store found the goods): hold what the order is
  missing where stock allows now (a pick-up at its own store) and send the fulfilment
  requests; the flag is lifted. When stock still falls short nothing changes (409
  ``still_short``). For a pick-up its store refused, another store is
  ``pickup_store.change_pickup_store``.
* ``mark_dealt_with`` — staff did what was needed outside the shop's own flow (refunded
  the second payment, called the shopper, …): the flag is lifted with their note on the
  timeline and in the audit.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_noop

from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.core.errors import ConflictError, ValidationFailedError
from omnimall.inventory.errors import InsufficientStockError, StockLocationNotFoundError
from omnimall.orders import domain
from omnimall.orders.models import Order, OrderAllocation, OrderEventKind
from omnimall.orders.texts import text

from .fulfilment import allocate_order, hold_elsewhere, request_fulfilment
from .timeline import add_event, lock_order, transition

# Where the order's own flow carries on once its missing units are held.
REALLOCATABLE = frozenset({domain.PAID, domain.ALLOCATED, domain.PARTIALLY_SHIPPED})
NOTE_MAX_LENGTH = 500


class StillShortError(ConflictError):
    """``details.shortages`` (when known): what is still missing, and where it was asked."""

    code = "still_short"
    message = "There is still not enough stock to allocate this order; nothing changed."


class NothingToAllocateError(ConflictError):
    code = "nothing_to_allocate"
    message = "This order is not waiting for stock: there is nothing to allocate again."


def may_allocate_again(order: Order) -> bool:
    return order.needs_attention and order.state in REALLOCATABLE


def _missing_units(order: Order) -> dict[int, int]:
    """``{line_id: units}`` of the order held nowhere (no live allocation)."""
    held = dict(
        OrderAllocation.objects.filter(line__order=order, is_live=True)
        .values_list("line_id")
        .annotate(units=Sum("quantity"))
    )
    return {
        line_id: quantity - held.get(line_id, 0)
        for line_id, quantity in order.lines.values_list("pk", "quantity")
        if quantity > held.get(line_id, 0)
    }


def allocate_again(*, order_id: int, actor: Actor) -> Order:
    """Hold the flagged order's missing units where stock allows now and send their
    fulfilment requests; the flag is lifted. 409 ``still_short`` (nothing changes),
    ``nothing_to_allocate`` for an order not flagged or past allocation."""
    with transaction.atomic():
        order = lock_order(order_id)
        if not may_allocate_again(order):
            raise NothingToAllocateError(number=order.number, state=order.state)
        order.needs_attention = False
        order.save(update_fields=["needs_attention", "updated_at"])
        missing = _missing_units(order)
        if order.state != domain.PAID and not missing:
            raise NothingToAllocateError(number=order.number, state=order.state)
        try:
            renewed = hold_elsewhere(order, missing) if missing else []
        except InsufficientStockError as short:
            raise StillShortError(
                number=order.number, shortages=short.details.get("shortages", [])
            ) from None
        except StockLocationNotFoundError:
            raise StillShortError(number=order.number) from None
        if order.state == domain.PAID:
            # What the worker does, now: holds that lapsed meanwhile are held anew, and
            # every live hold becomes a fulfilment request.
            if not allocate_order(order_id=order.pk):
                raise StillShortError(number=order.number)
            order = lock_order(order.pk)
        else:
            numbers = request_fulfilment(order, renewed)
            transition(
                order,
                order.state,
                actor=actor,
                message=text(
                    gettext_noop("re-allocated to %(requests)s"), requests=", ".join(numbers)
                ),
                data={"requests": numbers, "by_staff": True},
            )
        audit.record(actor=actor, action="order.allocated_again", subject=order)
    return order


def mark_dealt_with(*, order_id: int, note: str, actor: Actor) -> Order:
    """Lift the order's flag, saying what was done (``note``, required: the next person
    reading the timeline must know). An order not flagged is left as it is."""
    note = " ".join(str(note or "").split())[:NOTE_MAX_LENGTH]
    if not note:
        raise ValidationFailedError("Say what was done about it.", field="note")
    with transaction.atomic():
        order = lock_order(order_id)
        if not order.needs_attention:
            return order
        order.needs_attention = False
        order.save(update_fields=["needs_attention", "updated_at"])
        add_event(
            order,
            kind=OrderEventKind.NOTE,
            message=text(gettext_noop("dealt with: %(note)s"), note=note),
            actor=actor,
        )
        audit.record(actor=actor, action="order.attention_resolved", subject=order, reason=note)
    return order
