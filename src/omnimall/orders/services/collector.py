"""Someone else collects a pick-up (代取): a family member, a colleague near the store.

The shopper names them (a name and a mainland mobile) on the order page or in the Store
API, any time until the order is handed over; customer service or the store's staff do it
in the back office for a shopper who calls. The pick-up desk shows who is coming, so the
counter knows whom to expect besides the shopper, and the collector gets a text message
with the store, the code and the deadline once the goods are put aside (at once when they
already are). The code stays the shopper's too: either of them may collect.

Naming the same person again changes nothing (no second text); naming nobody
(``clear_collector``) takes the name off. The timeline (shown to the shopper), the audit
trail and, when it is sent, the text message record it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_noop

from omnimall.checkout.domain import MOBILE_RE, clean_phone, has_control_characters
from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.inventory.picking import mask_phone
from omnimall.orders import domain
from omnimall.orders.errors import CollectorNotSettableError, InvalidCollectorError
from omnimall.orders.models import Order, OrderEventKind
from omnimall.orders.texts import text

from . import messages
from .collect_by import text_collector
from .timeline import add_event, lock_order

NAME_MAX_LENGTH = 60  # Order.collector_name


def clean_collector(name: object, phone: object) -> tuple[str, str]:
    """The collector's name and mobile (digits only), or ``InvalidCollectorError``."""
    cleaned_name = name.strip() if isinstance(name, str) else ""
    cleaned_phone = clean_phone(phone) if isinstance(phone, str) else ""
    errors = {}
    if not cleaned_name or len(cleaned_name) > NAME_MAX_LENGTH:
        errors["name"] = f"Enter a name of at most {NAME_MAX_LENGTH} characters."
    elif has_control_characters(cleaned_name):
        errors["name"] = "Enter the name as it is written."
    if not MOBILE_RE.match(cleaned_phone):
        errors["phone"] = "Enter a mainland mobile number (11 digits), to send them the code."
    if errors:
        raise InvalidCollectorError(errors=errors)
    return cleaned_name, cleaned_phone


def _locked_settable(order_id: int) -> Order:
    order = lock_order(order_id)
    if not domain.may_set_collector(order.delivery_method, order.state):
        raise CollectorNotSettableError(number=order.number, state=order.state)
    return order


def set_collector(*, order_id: int, name: object, phone: object, actor: Actor) -> Order:
    """``name`` (with ``phone``) collects the pick-up; the order. Nothing is written on a
    refusal: 422 ``invalid_collector``, 409 ``collector_not_settable``."""
    new_name, new_phone = clean_collector(name, phone)
    with transaction.atomic():
        order = _locked_settable(order_id)
        if (order.collector_name, order.collector_phone) == (new_name, new_phone):
            return order
        before = order.collector_name
        order.collector_name, order.collector_phone = new_name, new_phone
        order.save(update_fields=["collector_name", "collector_phone", "updated_at"])
        add_event(
            order,
            kind=OrderEventKind.FULFILMENT,
            message=text(
                gettext_noop("to be collected by %(name)s (%(phone)s)"),
                name=new_name,
                phone=mask_phone(new_phone),
            ),
            actor=actor,
            data={"collector": [before, new_name]},
        )
        audit.record(
            actor=actor,
            action="order.collector_set",
            subject=order,
            changes={"collector_name": [before, new_name]},
        )
        if order.state == domain.READY_FOR_PICKUP:
            text_collector(order)
        _publish(order)
    return order


def clear_collector(*, order_id: int, actor: Actor) -> Order:
    """The shopper collects it themselves after all; the order (unchanged when nobody
    else was named). 409 ``collector_not_settable`` once it is handed over or closed."""
    with transaction.atomic():
        order = _locked_settable(order_id)
        if not order.collector_name:
            return order
        before = order.collector_name
        order.collector_name = order.collector_phone = ""
        order.save(update_fields=["collector_name", "collector_phone", "updated_at"])
        add_event(
            order,
            kind=OrderEventKind.FULFILMENT,
            message=gettext_noop("to be collected by the shopper"),
            actor=actor,
            data={"collector": [before, ""]},
        )
        audit.record(
            actor=actor,
            action="order.collector_cleared",
            subject=order,
            changes={"collector_name": [before, ""]},
        )
        _publish(order)
    return order


def _publish(order: Order) -> None:
    """The store's system hears whom to expect at the counter (``order.collector_changed``)."""
    messages.publish_order_event(
        order,
        topic="order.collector_changed",
        extra={"collector": domain.collector_of(order.collector_name, order.collector_phone)},
    )
