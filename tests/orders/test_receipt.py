"""Confirming receipt: by the shopper (page and Store API), or by the shop after a while."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import translation

from omnimall.core import clock
from omnimall.orders.errors import OrderTransitionError
from omnimall.orders.models import Order, OrderEvent
from omnimall.orders.selectors import get_order_by_id
from omnimall.orders.services import completion, receipt
from omnimall.orders.texts import event_text
from tests.orders.factories import (
    ACTOR,
    make_paid_order,
    make_shipped_order,
    make_shop,
    pay,
    place,
    ship_all,
)

pytestmark = pytest.mark.django_db


def _shipped_event(order):
    return OrderEvent.objects.get(order=order, state_to="shipped")


def test_the_shopper_confirms_receipt_once_and_the_return_window_starts(settings):
    settings.RETURN_WINDOW_DAYS = 14
    order = make_shipped_order()
    assert get_order_by_id(order.pk).can_confirm_receipt

    receipt.confirm_receipt(order_id=order.pk, actor=ACTOR)
    receipt.confirm_receipt(order_id=order.pk, actor=ACTOR)  # again: nothing changes

    order.refresh_from_db()
    assert order.state == "delivered"
    event = OrderEvent.objects.get(order=order, state_to="delivered")
    assert event.message == "The shopper confirmed receipt."
    assert not get_order_by_id(order.pk).can_confirm_receipt
    assert completion.complete_orders(now=clock.now() + timedelta(days=15)) == 1


def test_receipt_cannot_be_confirmed_before_everything_shipped():
    order = make_paid_order()
    assert not get_order_by_id(order.pk).can_confirm_receipt

    with pytest.raises(OrderTransitionError):
        receipt.confirm_receipt(order_id=order.pk, actor=ACTOR)

    assert Order.objects.get(pk=order.pk).state == "allocated"


def test_the_shop_confirms_receipt_of_orders_shipped_long_enough_ago(settings):
    settings.DELIVERY_CONFIRM_DAYS = 10
    shop = make_shop(units=20)
    old, recent = make_shipped_order(shop), make_shipped_order(shop)
    shipped_at = clock.now() - timedelta(days=11)
    OrderEvent.objects.filter(pk=_shipped_event(old).pk).update(created_at=shipped_at)
    view = get_order_by_id(old.pk)
    assert view.receipt_due_at == shipped_at + timedelta(days=10)

    confirmed = receipt.confirm_overdue_deliveries()
    again = receipt.confirm_overdue_deliveries()

    assert (confirmed, again) == (1, 0)
    assert Order.objects.get(pk=old.pk).state == "delivered"
    assert Order.objects.get(pk=recent.pk).state == "shipped"
    event = OrderEvent.objects.get(order=old, state_to="delivered")
    assert event.message == "Receipt confirmed automatically 10 days after shipping."
    with translation.override("zh-hans"):
        assert event_text(event) == "发货 10 天后已自动确认收货。"


def test_automatic_confirmation_can_be_turned_off(settings):
    settings.DELIVERY_CONFIRM_DAYS = 0
    order = make_shipped_order()
    OrderEvent.objects.filter(pk=_shipped_event(order).pk).update(
        created_at=clock.now() - timedelta(days=400)
    )

    assert receipt.confirm_overdue_deliveries() == 0
    assert Order.objects.get(pk=order.pk).state == "shipped"
    assert get_order_by_id(order.pk).receipt_due_at is None


def test_a_guest_confirms_receipt_through_the_store_api():
    shop = make_shop()
    placed = place(shop)
    ship_all(pay(placed.order_id))
    url = f"/api/v1/orders/{placed.number}/received"

    stranger = Client().post(url, {}, content_type="application/json")
    confirmed = Client().post(url, {"token": placed.guest_token}, content_type="application/json")

    assert stranger.status_code == 404
    assert confirmed.status_code == 200, confirmed.content
    body = confirmed.json()
    assert body["state"] == "delivered"
    assert body["can_confirm_receipt"] is False
    assert body["can_request_return"] is True


def test_the_order_page_confirms_receipt(client):
    shop = make_shop()
    placed = place(shop)
    ship_all(pay(placed.order_id))
    page_url = f"/orders/{placed.number}/?token={placed.guest_token}"

    page = client.get(page_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    confirmed = client.post(
        f"/orders/{placed.number}/received/?token={placed.guest_token}",
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()

    assert "Confirm receipt" in page
    assert "we confirm it for you on" in page
    assert "Thank you: the order is marked as received." in confirmed
    assert 'class="order-received"' not in confirmed
    assert Order.objects.get(pk=placed.order_id).state == "delivered"
