"""Orders past their return window complete; an open return keeps them open."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from omnimall.core import clock
from omnimall.orders.models import OrderEvent
from omnimall.orders.services import completion, fulfilment, returns
from tests.orders.factories import ACTOR, make_shipped_order

pytestmark = pytest.mark.django_db


def _delivered():
    order = make_shipped_order()
    return fulfilment.confirm_delivery(order_id=order.pk, actor=ACTOR)


def test_complete_orders_completes_a_delivered_order_when_the_return_window_passed(settings):
    settings.RETURN_WINDOW_DAYS = 14
    order = _delivered()

    early = completion.complete_orders(now=clock.now() + timedelta(days=13))
    late = completion.complete_orders(now=clock.now() + timedelta(days=15))
    again = completion.complete_orders(now=clock.now() + timedelta(days=16))

    order.refresh_from_db()
    assert (early, late, again) == (0, 1, 0)
    assert order.state == "completed"
    assert order.closed_at is not None
    assert OrderEvent.objects.filter(order=order, state_to="completed").count() == 1


def test_complete_orders_leaves_an_order_with_an_open_return(settings):
    settings.RETURN_WINDOW_DAYS = 14
    order = _delivered()
    line = order.lines.first()
    returns.request_return(order_id=order.pk, lines=[(line.pk, 1)], reason="too small", actor=ACTOR)

    with time_machine.travel(clock.now() + timedelta(days=20)):
        completed = completion.complete_orders()

    order.refresh_from_db()
    assert completed == 0
    assert order.state == "delivered"
