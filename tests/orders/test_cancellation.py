"""Cancelling: shopper before anyone prepares it, staff until shipped, the unpaid-order sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase

from omnimall.core import clock, outbox
from omnimall.inventory.models import FulfilmentRequest, FulfilmentState, Reservation
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders.errors import (
    OrderAlreadyPaidError,
    OrderBeingPreparedError,
    OrderTransitionError,
)
from omnimall.orders.models import Order
from omnimall.orders.selectors import get_order_by_id
from omnimall.orders.services import cancellation
from omnimall.payments.models import Payment, SandboxTrade
from tests.inventory.factories import level_of
from tests.orders.factories import (
    ACTOR,
    make_paid_order,
    make_ready_pickup,
    make_shipped_order,
    make_shop,
    pay_at_gateway,
    place,
    request_ids,
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


def test_shopper_cancels_a_paid_order_nobody_prepares_yet_for_a_full_refund():
    shop = make_shop()
    order = make_paid_order(shop)
    assert get_order_by_id(order.pk).can_cancel

    with TestCase.captureOnCommitCallbacks(execute=True):
        cancellation.cancel_order(
            order_id=order.pk, actor=ACTOR, reason="ordered twice", by_shopper=True
        )

    order.refresh_from_db()
    assert order.state == "cancelled"
    assert order.amount_refunded == order.amount_paid == order.total
    assert FulfilmentRequest.objects.get(owner_id=order.number).state == FulfilmentState.CANCELLED
    assert level_of(shop.warehouse, shop.skus[0]).reserved == 0
    assert not get_order_by_id(order.pk).can_cancel


def test_shopper_cannot_cancel_once_a_warehouse_took_the_order_on():
    shop = make_shop()
    order = make_paid_order(shop)
    (request_id,) = request_ids(order)
    inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)
    assert not get_order_by_id(order.pk).can_cancel
    reserved = level_of(shop.warehouse, shop.skus[0]).reserved

    with pytest.raises(OrderBeingPreparedError) as refused:
        cancellation.cancel_order(order_id=order.pk, actor=ACTOR, reason="", by_shopper=True)

    assert refused.value.status == 409
    assert refused.value.details["requests"] == [FulfilmentRequest.objects.get().number]
    order.refresh_from_db()
    assert order.state == "allocated"
    assert order.amount_refunded == 0
    assert FulfilmentRequest.objects.get().state == FulfilmentState.ACCEPTED
    assert level_of(shop.warehouse, shop.skus[0]).reserved == reserved
    # Staff still may: the warehouse is told through the cancelled request.
    cancellation.cancel_order(order_id=order.pk, actor=ACTOR, reason="asked", by_shopper=False)
    assert Order.objects.get(pk=order.pk).state == "cancelled"


def test_shopper_cannot_cancel_a_paid_order_when_the_shop_turns_it_off(settings):
    settings.SHOPPER_CANCEL_PAID = False
    order = make_paid_order()
    assert not get_order_by_id(order.pk).can_cancel

    with pytest.raises(OrderTransitionError):
        cancellation.cancel_order(order_id=order.pk, actor=ACTOR, reason="", by_shopper=True)

    assert Order.objects.get(pk=order.pk).state == "allocated"


def test_shopper_cannot_cancel_a_pickup_put_aside_or_a_shipped_order():
    ready = make_ready_pickup()
    shipped = make_shipped_order()

    for order in (ready, shipped):
        assert not get_order_by_id(order.pk).can_cancel
        with pytest.raises(OrderTransitionError):
            cancellation.cancel_order(order_id=order.pk, actor=ACTOR, reason="", by_shopper=True)

    assert Order.objects.get(pk=ready.pk).state == "ready_for_pickup"
    assert Order.objects.get(pk=shipped.pk).state == "shipped"


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
