"""Cancelling: shopper before paying, staff until shipped, the unpaid-order sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from omnimall.core import clock, outbox
from omnimall.inventory.models import FulfilmentRequest, FulfilmentState, Reservation
from omnimall.orders.errors import OrderAlreadyPaidError, OrderTransitionError
from omnimall.orders.models import Order
from omnimall.orders.services import cancellation
from omnimall.payments.models import Payment, SandboxTrade
from tests.inventory.factories import level_of
from tests.orders.factories import (
    ACTOR,
    make_paid_order,
    make_shipped_order,
    make_shop,
    pay_at_gateway,
    place,
)

pytestmark = pytest.mark.django_db


def test_shopper_cancels_unpaid_order_and_stock_is_released(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    shop = make_shop()
    placed = place(shop, quantities=(1, 2))

    cancellation.cancel_order(
        order_id=placed.order_id, actor=ACTOR, reason="changed my mind", by_shopper=True
    )
    outbox.deliver_due()

    order = Order.objects.get(pk=placed.order_id)
    assert order.state == "cancelled"
    assert level_of(shop.warehouse, shop.skus[1]).reserved == 0
    assert set(Reservation.objects.values_list("state", flat=True)) == {"released"}
    assert Payment.objects.get(order=order).state == "cancelled"
    assert SandboxTrade.objects.get().status == "TRADE_CLOSED"
    assert any("cancelled" in m.subject for m in mail.outbox)


def test_shopper_cannot_cancel_a_paid_order():
    order = make_paid_order()

    with pytest.raises(OrderTransitionError):
        cancellation.cancel_order(order_id=order.pk, actor=ACTOR, reason="", by_shopper=True)

    assert Order.objects.get(pk=order.pk).state == "allocated"


def test_cancel_is_refused_when_the_gateway_says_paid_and_the_order_is_settled():
    shop = make_shop()
    placed = place(shop)
    pay_at_gateway(placed.order_id)  # paid, but the notification has not arrived yet

    with pytest.raises(OrderAlreadyPaidError) as refused:
        cancellation.cancel_order(order_id=placed.order_id, actor=ACTOR, reason="", by_shopper=True)

    assert refused.value.status == 409
    assert Order.objects.get(pk=placed.order_id).state in ("paid", "allocated")


def test_staff_cancel_of_an_allocated_order_refunds_and_releases():
    shop = make_shop()
    order = make_paid_order(shop)

    cancellation.cancel_order(
        order_id=order.pk, actor=ACTOR, reason="fraud check", by_shopper=False
    )

    order.refresh_from_db()
    assert order.state == "cancelled"
    assert order.amount_refunded == order.amount_paid == order.total
    assert FulfilmentRequest.objects.get(owner_id=order.number).state == FulfilmentState.CANCELLED
    assert level_of(shop.warehouse, shop.skus[0]).reserved == 0


def test_staff_cannot_cancel_a_shipped_order():
    order = make_shipped_order()

    with pytest.raises(OrderTransitionError):
        cancellation.cancel_order(order_id=order.pk, actor=ACTOR, reason="x", by_shopper=False)


def test_expire_unpaid_orders_cancels_the_lapsed_and_settles_the_paid():
    shop = make_shop()
    lapsed = place(shop, quantities=(1, 1))
    paid_quietly = place(shop, quantities=(1, 1))
    fresh = place(shop, quantities=(1, 1))
    pay_at_gateway(paid_quietly.order_id)
    past = clock.now() - timedelta(minutes=1)
    Order.objects.filter(pk__in=[lapsed.order_id, paid_quietly.order_id]).update(
        reserved_until=past
    )

    cancelled = cancellation.expire_unpaid_orders()

    assert cancelled == 1
    assert Order.objects.get(pk=lapsed.order_id).state == "cancelled"
    assert Order.objects.get(pk=paid_quietly.order_id).state in ("paid", "allocated")
    assert Order.objects.get(pk=fresh.order_id).state == "pending_payment"
    assert level_of(shop.warehouse, shop.skus[0]).reserved == 2
