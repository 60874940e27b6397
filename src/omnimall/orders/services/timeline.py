"""Moving an order through its state machine, and writing its timeline.

Every state change goes through ``transition`` (``orders.domain`` decides), inside the
caller's transaction, with the order row locked by ``lock_order``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.orders import domain
from omnimall.orders.errors import OrderNotFoundError, OrderTransitionError
from omnimall.orders.models import Order, OrderEvent, OrderEventKind

_CLOSING = {domain.COMPLETED, domain.CANCELLED, domain.REFUNDED}


def lock_order(order_id: int) -> Order:
    """The order row, locked for this transaction (the first lock any order write takes)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_order needs a transaction")
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise OrderNotFoundError(order_id=order_id)
    return order


def add_event(
    order: Order,
    *,
    kind: str,
    message: str = "",
    actor: Actor | None = None,
    data: dict[str, Any] | None = None,
    state_from: str = "",
    state_to: str = "",
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        message=message,
        data=data or {},
        actor_label=(actor.label if actor else "system")[:150],
        state_from=state_from,
        state_to=state_to,
    )


def transition(
    order: Order,
    target: str,
    *,
    actor: Actor | None = None,
    message: str = "",
    data: dict[str, Any] | None = None,
    extra_fields: tuple[str, ...] = (),
) -> None:
    """Move a locked ``order`` to ``target`` (refused with 409 ``order_state``)."""
    try:
        domain.check_transition(order.state, target)
    except domain.OrderStateError as refused:
        raise OrderTransitionError(
            str(refused), number=order.number, state=order.state, target=target
        ) from None
    before = order.state
    order.state = target
    fields = ["state", "updated_at", *extra_fields]
    if target in _CLOSING and order.closed_at is None:
        order.closed_at = clock.now()
        fields.append("closed_at")
    order.save(update_fields=fields)
    add_event(
        order,
        kind=OrderEventKind.STATE,
        message=message,
        actor=actor,
        data=data,
        state_from=before,
        state_to=target,
    )
