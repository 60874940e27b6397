"""The reminder to pay before an unpaid order's hold ends: once, on time, never too late."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from omnimall.celery import app
from omnimall.core.models import OutboxMessage
from omnimall.orders import tasks
from omnimall.orders.models import Order
from omnimall.orders.services import cancellation, messages, payment_reminders
from tests.orders.factories import ACTOR, make_shop, pay, place

pytestmark = pytest.mark.django_db

TOPIC = "order.payment_reminder"


@pytest.fixture(autouse=True)
def _minutes(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.CHECKOUT_HOLD_MINUTES = 15
    settings.PAYMENT_REMINDER_MINUTES = 5
    settings.LANGUAGE_CODE = "en"


def _reminders() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind="email", topic=TOPIC).order_by("pk"))


def _remind_at(when: datetime) -> int:
    with time_machine.travel(when, tick=False):
        return tasks.remind_unpaid_orders_task()


def _unpaid() -> Order:
    return Order.objects.get(pk=place(make_shop(units=20)).order_id)


def _before_the_end(order: Order, minutes: float) -> datetime:
    assert order.reserved_until is not None
    return order.reserved_until - timedelta(minutes=minutes)


def test_one_email_goes_out_five_minutes_before_the_hold_ends_with_the_local_time():
    order = _unpaid()

    early = _remind_at(_before_the_end(order, 6))
    due = _remind_at(_before_the_end(order, 4))
    again = _remind_at(_before_the_end(order, 3))

    assert (early, due, again) == (0, 1, 0)
    [email] = _reminders()
    local = timezone.localtime(order.reserved_until)
    assert f"until {local:%H:%M}" in email.payload["body"]
    assert f"({django_settings.TIME_ZONE} time)" in email.payload["body"]
    assert order.guest_token in email.payload["body"]  # the order page, which pays
    order.refresh_from_db()
    assert order.payment_reminded_at is not None


def test_only_orders_still_waiting_for_payment_are_reminded():
    shop = make_shop(units=30)
    paid = pay(place(shop).order_id)
    cancelled = place(shop)
    cancellation.cancel_order(order_id=cancelled.order_id, actor=ACTOR, reason="", by_shopper=True)
    waiting = Order.objects.get(pk=place(shop).order_id)

    reminded = _remind_at(_before_the_end(waiting, 4))

    assert reminded == 1
    [email] = _reminders()
    assert waiting.number in email.dedupe_key
    assert payment_reminders.remind_payment(order_id=paid.pk) is False
    assert payment_reminders.remind_payment(order_id=cancelled.order_id) is False


def test_an_order_whose_hold_has_ended_is_left_to_the_cancellation_sweep():
    order = _unpaid()

    assert _remind_at(order.reserved_until + timedelta(seconds=1)) == 0
    with time_machine.travel(order.reserved_until + timedelta(seconds=1), tick=False):
        assert payment_reminders.remind_payment(order_id=order.pk) is False
    assert _reminders() == []


@pytest.mark.parametrize("minutes", [0, 15, 20])
def test_reminders_are_off_at_zero_or_not_below_the_hold(settings, minutes):
    settings.PAYMENT_REMINDER_MINUTES = minutes
    order = _unpaid()

    assert _remind_at(_before_the_end(order, 1)) == 0
    assert _reminders() == []


def test_sending_the_last_email_again_repeats_the_reminder():
    order = _unpaid()
    _remind_at(_before_the_end(order, 4))

    with time_machine.travel(_before_the_end(order, 3), tick=False):
        messages.resend_last_email(order_id=order.pk, actor=ACTOR)

    first, second = _reminders()
    assert first.payload["body"] == second.payload["body"]


def test_the_reminder_task_is_registered_and_runs_every_minute():
    assert "orders.remind_unpaid_orders" in app.tasks
    entry = django_settings.CELERY_BEAT_SCHEDULE["remind-unpaid-orders"]
    assert (entry["task"], entry["schedule"]) == ("orders.remind_unpaid_orders", 60.0)
