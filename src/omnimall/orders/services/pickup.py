"""The pick-up desk: the shopper shows the code, staff hand the order over.

Handing over records a shipment of the store's fulfilment request (carrier ``pickup``,
tracking number = the order number), which commits the held units as a sale, and moves
the order to ``picked_up`` in the same transaction.
"""

from __future__ import annotations

from django.db import transaction

from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders import domain
from omnimall.orders.errors import PickupCodeError
from omnimall.orders.models import DeliveryMethod, Order

from .fulfilment import _handed_over, live_requests
from .timeline import lock_order

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
        for request_id in live_requests(order):
            inventory_fulfilment.record_shipment(
                request_id=request_id,
                carrier=PICKUP_CARRIER,
                tracking_number=order.number,
                actor=actor,
            )
        _handed_over(order, actor=actor)
        audit.record(actor=actor, action="order.picked_up", subject=order)
    return order
