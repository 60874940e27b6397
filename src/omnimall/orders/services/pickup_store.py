"""A pick-up order moved to another store (更换自提门店), by the shopper on the order page or
in the Store API, or by customer service in the back office.

Allowed while the order awaits payment, is paid or allocated, until its store puts the
goods aside (accepts its request): the requests are locked while deciding, so a racing
``accept`` ends one way or the other, as for a new address. The new store must offer
pick-up and hold the whole order now (409 ``out_of_stock`` otherwise, nothing changed).

The old store's holds and open request are withdrawn and the units held at the new store:
for what is left of the payment window while unpaid, else as long as a paid pick-up is
held; a paid order gets its request at the new store at once. The pick-up code stays (it
is unique among open pick-ups, whatever the store). An order credited to its pick-up store
is credited to the new one, which hands it over; another credit stays as placement decided.

It also mends an order its store refused, or whose holds lapsed, with nowhere else to take
them from (flagged as needing attention, nothing held): once the new store holds
everything, the flag is lifted.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext_noop

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.inventory.selectors import allocation as allocation_selectors
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders import domain
from omnimall.orders.errors import (
    InvalidPickupStoreError,
    OrderBeingPreparedError,
    PaymentHoldExpiredError,
    PickupStoreNotChangeableError,
)
from omnimall.orders.models import (
    CreditReason,
    Order,
    OrderAllocation,
    OrderEventKind,
)
from omnimall.orders.texts import text

from . import messages
from .fulfilment import (
    allocate_order,
    hold_elsewhere,
    live_requests,
    release_holds,
    request_fulfilment,
)
from .timeline import add_event, lock_order


def may_change_store(order: Order) -> bool:
    """Whether the order's state and method allow another store (requests not checked)."""
    return domain.may_change_store(order.delivery_method, order.state)


def not_changeable(order: Order) -> PickupStoreNotChangeableError:
    """The refusal for an order whose state or method allows no other store."""
    return PickupStoreNotChangeableError(number=order.number, state=order.state)


def _hold_for(order: Order) -> timedelta | None:
    """How long the new store holds the units: the rest of the payment window while unpaid
    (None once paid: as long as a paid pick-up is held)."""
    if order.state != domain.PENDING_PAYMENT:
        return None
    left = order.reserved_until - clock.now() if order.reserved_until else timedelta(0)
    if left <= timedelta(0):
        raise PaymentHoldExpiredError(number=order.number)
    return left


def change_pickup_store(*, order_id: int, store: object, actor: Actor) -> Order:
    """Pick the order up at ``store`` (a store's code) instead; the order, changed.

    Nothing is written on a refusal: 422 ``invalid_store``, 409
    ``pickup_store_not_changeable`` / ``order_being_prepared`` / ``hold_expired`` /
    ``out_of_stock`` (the new store does not hold the whole order)."""
    with transaction.atomic():
        order = lock_order(order_id)
        if not may_change_store(order):
            raise not_changeable(order)
        new = allocation_selectors.find_pickup_store(store)
        if new is None:
            raise InvalidPickupStoreError(store=str(store)[:40])
        if new.location_id == order.pickup_store_id:
            return order
        requests = live_requests(order)
        taken_on = inventory_fulfilment.lock_taken_on(requests)
        if taken_on:
            raise OrderBeingPreparedError(
                "The store has put this order aside: its pick-up store can no longer change.",
                number=order.number,
                requests=taken_on,
            )
        hold_for = _hold_for(order)
        old = order.pickup_store
        held_before = OrderAllocation.objects.filter(line__order=order, is_live=True).exists()
        release_holds(order, actor=actor, reason=f"pick-up moved to {new.code}")
        order.pickup_store_id = new.location_id
        units = {line.pk: line.quantity for line in order.lines.all()}
        renewed = hold_elsewhere(order, units, hold_for=hold_for)  # a shortage: all undone
        fields = ["pickup_store", "updated_at"]
        if order.credit_reason == CreditReason.PICKUP_STORE:
            order.credited_store_id = new.location_id
            fields.append("credited_store")
        mended = order.needs_attention and not held_before
        if mended:
            order.needs_attention = False
            fields.append("needs_attention")
        order.save(update_fields=fields)
        numbers = request_fulfilment(order, renewed) if order.state == domain.ALLOCATED else []
        add_event(
            order,
            kind=OrderEventKind.FULFILMENT,
            message=text(
                gettext_noop("pick-up store changed to %(store)s"),
                store=new.name_zh or new.name_en,
            ),
            actor=actor,
            data={
                "before": old.code if old else "",
                "after": new.code,
                "requests": numbers,
                "attention_lifted": mended,
            },
        )
        audit.record(
            actor=actor,
            action="order.pickup_store_changed",
            subject=order,
            changes={"pickup_store": [old.code if old else "", new.code]},
        )
        if order.state == domain.PAID and allocate_order(order_id=order.pk):
            order = lock_order(order.pk)  # allocated: its request at the new store, now
        messages.email_shopper(
            order,
            template="pickup_store_changed",
            dedupe_suffix=f"{new.code}:{clock.now().timestamp():.6f}",
        )
        messages.publish_order_event(
            order,
            topic="order.pickup_store_changed",
            extra={"pickup_store": new.code, "pickup_store_before": old.code if old else ""},
        )
    return order
