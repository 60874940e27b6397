"""Moving an order through its state machine, and writing its timeline.

Every state change goes through ``transition`` (``orders.domain`` decides), inside the
caller's transaction, with the order row locked by ``lock_order``.

An event's ``message`` is English: a fixed text marked with ``gettext_noop``, or a
``texts.Text`` when it carries figures (stored with its template, so the back office
can show it in the staff member's language: see ``orders.texts``).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection, transaction

from omnimall.core import clock, sql
from omnimall.core.actors import Actor
from omnimall.orders import domain
from omnimall.orders.errors import OrderNotFoundError, OrderTransitionError
from omnimall.orders.models import Order, OrderEvent, OrderEventKind
from omnimall.orders.texts import Text

_CLOSING = {domain.COMPLETED, domain.CANCELLED, domain.REFUNDED}


def lock_order(order_id: int) -> Order:
    """The order row, locked for this transaction (the first lock any order write takes)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_order needs a transaction")
    with connection.cursor() as cursor:
        cursor.execute(
            _lock_sql(connection.vendor, connection.features.has_select_for_update), [int(order_id)]
        )
        found = sql.instances(Order, cursor.fetchall())
    if not found:
        raise OrderNotFoundError(order_id=order_id)
    return found[0]


@functools.cache
def _lock_sql(vendor: str, lock: bool) -> str:
    """Hand-written (hot path: payment, allocation, every order change): the statement of
    ``Order.objects.select_for_update().filter(pk=…).first()`` without compiling it."""
    qn = connection.ops.quote_name
    meta = Order._meta
    return (
        f"SELECT {sql.select_list(Order)} FROM {qn(meta.db_table)} "  # noqa: S608
        f"WHERE {qn(str(meta.pk.column))} = %s{' FOR UPDATE' if lock else ''}"
    )


def add_event(
    order: Order,
    *,
    kind: str,
    message: str | Text = "",
    actor: Actor | None = None,
    data: dict[str, Any] | None = None,
    state_from: str = "",
    state_to: str = "",
) -> OrderEvent:
    event = new_event(
        order,
        kind=kind,
        message=message,
        actor=actor,
        data=data,
        state_from=state_from,
        state_to=state_to,
    )
    sql.insert([event])  # event.save(force_insert=True), not compiled each time
    return event


def new_event(
    order: Order,
    *,
    kind: str,
    message: str | Text = "",
    actor: Actor | None = None,
    data: dict[str, Any] | None = None,
    state_from: str = "",
    state_to: str = "",
) -> OrderEvent:
    """``add_event`` without saving: the caller saves it (e.g. several in one insert)."""
    return OrderEvent(
        order=order,
        kind=kind,
        message=str(message),
        message_text=(message.stored() if isinstance(message, Text) and message.params else None),
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
    message: str | Text = "",
    data: dict[str, Any] | None = None,
    extra_fields: tuple[str, ...] = (),
    save_event: bool = True,
) -> OrderEvent:
    """Move a locked ``order`` to ``target`` (refused with 409 ``order_state``); its
    timeline event (left unsaved with ``save_event=False``: the caller saves it)."""
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
    sql.update(order, fields)  # order.save(update_fields=fields), not compiled each time
    return (add_event if save_event else new_event)(
        order,
        kind=OrderEventKind.STATE,
        message=message,
        actor=actor,
        data=data,
        state_from=before,
        state_to=target,
    )
