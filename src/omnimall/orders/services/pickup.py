"""Pick-up in store: put aside (ready), and handed over at the desk by code.

A store *accepting* its pick-up fulfilment request (store API, or the back office's
"put aside") means the goods are set aside: the order becomes ``ready_for_pickup`` and
the shopper gets the code by email. Handing over records a shipment of the store's
fulfilment request (carrier ``pickup``, tracking number = the order number), which
commits the held units as a sale, and moves the order to ``picked_up`` in the same
transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_noop

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.inventory.models import FulfilmentState
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders import domain
from omnimall.orders.errors import NothingPutAsideError, OrderTransitionError, PickupCodeError
from omnimall.orders.models import DeliveryMethod, Order, OrderAllocation, OrderEventKind

from . import collect_by, messages, texts_to_shoppers
from .fulfilment import SYSTEM, live_requests, locked_order_of
from .timeline import add_event, lock_order, transition

PICKUP_CARRIER = "pickup"


def clean_code(code: str) -> str:
    return "".join(str(code or "").split())[:8]


def hand_over(*, store_id: int, code: str, actor: Actor) -> Order:
    """Hand the order awaiting pick-up at ``store_id`` under ``code`` to the shopper."""
    code = clean_code(code)
    if not code:
        raise PickupCodeError(store_id=store_id)
    with transaction.atomic():
        order_id = (
            Order.objects.filter(
                pickup_store_id=store_id,
                pickup_code=code,
                delivery_method=DeliveryMethod.PICKUP,
                state=domain.READY_FOR_PICKUP,
            )
            .values_list("pk", flat=True)
            .first()
        )
        if order_id is None:
            raise PickupCodeError(store_id=store_id, code=code)
        order = lock_order(order_id)
        if order.state != domain.READY_FOR_PICKUP:
            raise PickupCodeError(store_id=store_id, code=code)
        requests = live_requests(order)
        if not requests:  # nothing put aside any more: no sale to record, nothing to hand
            raise NothingPutAsideError(number=order.number)
        for request_id in requests:
            inventory_fulfilment.record_shipment(
                request_id=request_id,
                carrier=PICKUP_CARRIER,
                tracking_number=order.number,
                actor=actor,
            )
        handed_over(order, actor=actor)
        audit.record(actor=actor, action="order.picked_up", subject=order)
    return order


def on_fulfilment_accepted(*, request_id: int, owner_type: str, owner_id: str) -> None:
    """A location took a request on; for pick-up, the goods are put aside: ready."""
    with transaction.atomic():
        order = locked_order_of(owner_type, owner_id)
        if order is None:
            return
        add_event(
            order,
            kind=OrderEventKind.FULFILMENT,
            message=gettext_noop("fulfilment request accepted"),
            data={"request_id": request_id},
        )
        if order.delivery_method != DeliveryMethod.PICKUP or order.state != domain.ALLOCATED:
            return
        if all_put_aside(order):
            make_ready(order)


def all_put_aside(order: Order) -> bool:
    """Every unit of the order is held by an accepted request (and there are units: an
    order whose store refused them, with nowhere else to take them from, has none)."""
    live = OrderAllocation.objects.filter(line__order=order, is_live=True)
    waiting = live.exclude(fulfilment_line__request__state=FulfilmentState.ACCEPTED)
    return live.exists() and not waiting.exists()


def make_ready(order: Order) -> None:
    order.ready_at = clock.now()
    order.collect_by = collect_by.deadline_after(order.ready_at)
    transition(
        order,
        domain.READY_FOR_PICKUP,
        actor=SYSTEM,
        message=gettext_noop("put aside at the store"),
        extra_fields=("ready_at", "collect_by"),
    )
    # Paid holds may end before a store that took long to put the goods aside is done.
    collect_by.keep_holds(order, until=order.collect_by + collect_by.HOLD_PAST_DEADLINE)
    deadline = collect_by.local_deadline(order.collect_by)
    messages.email_shopper(
        order,
        template="ready_for_pickup",
        extra={
            "days": settings.PICKUP_UNCOLLECTED_DAYS,
            "deadline": deadline,
            "time_zone": settings.TIME_ZONE,
        },
    )
    texts_to_shoppers.text_shopper(order, moment="ready_for_pickup", extra={"deadline": deadline})
    collect_by.text_collector(order)
    messages.publish_order_event(
        order, topic="order.ready_for_pickup", extra={"collect_by": order.collect_by.isoformat()}
    )


def handed_over(order: Order, *, actor: Actor) -> bool:
    """A pick-up order left the counter; False when it already had."""
    if order.state == domain.PICKED_UP:
        return False
    if order.state == domain.ALLOCATED:
        make_ready(order)
    transition(
        order, domain.PICKED_UP, actor=actor, message=gettext_noop("handed over at the store")
    )
    messages.publish_order_event(order, topic="order.picked_up")
    return True


def mark_ready_for_pickup(*, order_id: int, actor: Actor) -> None:
    """Staff put a pick-up order aside: its store accepts the request (→ ready)."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.delivery_method != DeliveryMethod.PICKUP:
        raise OrderTransitionError("Only a pick-up order can be made ready.", order_id=order_id)
    if order.state != domain.ALLOCATED:
        raise OrderTransitionError(
            "Only an allocated pick-up order can be made ready.",
            number=order.number,
            state=order.state,
        )
    open_ids = sorted(
        set(
            OrderAllocation.objects.filter(
                line__order=order,
                is_live=True,
                fulfilment_line__request__state=FulfilmentState.OPEN,
            ).values_list("fulfilment_line__request_id", flat=True)
        )
    )
    for request_id in open_ids:
        inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=actor)
    if not open_ids:
        # Already accepted (e.g. through the store API) but not yet marked: do it now,
        # unless nothing is held for it (its store refused the items; see the order).
        with transaction.atomic():
            order = lock_order(order_id)
            if order.state != domain.ALLOCATED:
                return
            if not all_put_aside(order):
                raise NothingPutAsideError(number=order.number)
            make_ready(order)
