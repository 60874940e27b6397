"""Text messages to the shopper's mobile when the pick-up is ready (with its code) and when
the parcel ships: in Chinese, signed with the shop's name, sent through the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from omnimall.core import outbox, sms
from omnimall.core.models import OutboxMessage
from omnimall.orders.models import Order, OrderEvent
from omnimall.orders.services import collect_by, payment_reminders, pickup_reminders
from tests.orders.factories import make_ready_pickup, make_shipped_order, make_shop, place

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _texts(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.SMS_BACKEND = "locmem"
    settings.SHOP_NAME_ZH = "流明"
    settings.ORDER_TEXT_MESSAGES = ["ready_for_pickup", "shipped"]
    sms.outbox.clear()


def texts() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind="sms").order_by("pk"))


def test_a_ready_pick_up_texts_its_code_and_store():
    order = make_ready_pickup()

    [message] = texts()
    outbox.deliver_due()

    assert message.topic == "order.ready_for_pickup"
    assert message.destination == "+8613800138000"
    [sent] = sms.outbox
    assert sent.phone == "+8613800138000"
    assert sent.text.startswith("【流明】您的订单")
    assert f"取货码 {order.pickup_code}" in sent.text
    assert f"请于 {collect_by.local_deadline(order.collect_by)} 前" in sent.text
    assert order.pickup_code in sent.text
    assert order.pickup_store.name_zh in sent.text
    assert f"{order.number[:6]} {order.number[6:]}" in sent.text
    [event] = OrderEvent.objects.filter(order=order, kind="text")
    assert event.message == "text message sent to 138****8000"
    assert event.data["text"] == sent.text


def test_a_shipment_texts_the_carrier_and_tracking_number_once():
    order = make_shipped_order(make_shop())

    [message] = texts()

    assert message.topic == "order.shipped"
    assert "运单号 SF100" in message.payload["text"]
    assert "SF Express" in message.payload["text"]  # no carrier configured: as reported
    assert Order.objects.get(pk=order.pk).state == "shipped"


def test_no_text_when_the_setting_leaves_the_moment_out_or_the_phone_is_a_landline(settings):
    settings.ORDER_TEXT_MESSAGES = ["shipped"]
    make_ready_pickup()
    settings.ORDER_TEXT_MESSAGES = ["ready_for_pickup", "shipped"]
    shop = make_shop()
    landline = make_shipped_order(shop, phone="021-63210000")

    assert texts() == []
    assert Order.objects.get(pk=landline.pk).phone == "021-63210000"


def test_the_payment_reminder_texts_too_when_the_shop_turns_it_on(settings):
    settings.PAYMENT_REMINDER_MINUTES = 5
    settings.ORDER_TEXT_MESSAGES = ["payment_reminder"]
    order = Order.objects.get(pk=place(make_shop()).order_id)

    with time_machine.travel(order.reserved_until - timedelta(minutes=4), tick=False):
        assert payment_reminders.remind_unpaid_orders() == 1

    [message] = texts()
    assert message.topic == "order.payment_reminder"
    assert "尚未付款" in message.payload["text"]


def test_the_uncollected_pick_up_reminder_texts_the_code_and_the_deadline(settings):
    settings.PICKUP_UNCOLLECTED_DAYS = 7
    settings.PICKUP_REMINDER_DAYS = 2
    settings.ORDER_TEXT_MESSAGES = ["pickup_reminder"]
    order = make_ready_pickup()

    with time_machine.travel(order.ready_at + timedelta(days=5, minutes=1), tick=False):
        assert pickup_reminders.remind_uncollected_pickups() == 1

    [message] = texts()
    assert message.topic == "order.pickup_reminder"
    assert f"取货码 {order.pickup_code}" in message.payload["text"]
    assert "仍在" in message.payload["text"]
