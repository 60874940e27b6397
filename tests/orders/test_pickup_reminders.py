"""The reminder before an uncollected pick-up is cancelled: once, on time, never too late."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from omnimall.celery import app
from omnimall.core import clock, outbox
from omnimall.core.models import OutboxMessage
from omnimall.orders import tasks
from omnimall.orders.models import Order, OrderEvent, OrderEventKind
from omnimall.orders.services import cancellation, messages, pickup, pickup_reminders
from tests.orders.factories import ACTOR, make_ready_pickup, make_shop

pytestmark = pytest.mark.django_db

TOPIC = "order.pickup_reminder"


@pytest.fixture(autouse=True)
def _pickup_days(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.PICKUP_UNCOLLECTED_DAYS = 7
    settings.PICKUP_REMINDER_DAYS = 2
    settings.LANGUAGE_CODE = "en"


def _reminders(order: Order | None = None) -> list[OutboxMessage]:
    found = OutboxMessage.objects.filter(kind="email", topic=TOPIC).order_by("pk")
    if order is not None:
        found = found.filter(dedupe_key__contains=order.number)
    return list(found)


def _at(order: Order, delta: timedelta) -> datetime:
    """``delta`` after the order was put aside."""
    assert order.ready_at is not None
    return order.ready_at + delta


def _remind_at(when: datetime) -> int:
    with time_machine.travel(when, tick=False):
        return tasks.remind_uncollected_pickups_task()


def test_remind_sends_one_email_with_code_store_and_local_deadline_when_due():
    order = make_ready_pickup()
    due = _at(order, timedelta(days=5, minutes=1))

    reminded = _remind_at(due)

    order.refresh_from_db()
    [email] = _reminders()
    deadline = timezone.localtime(order.ready_at + timedelta(days=7))
    shown = f"{deadline:%Y-%m-%d %H:%M}"
    body, html = email.payload["body"], email.payload["html"]
    assert reminded == 1
    assert email.destination == "shopper@example.com"
    assert email.payload["subject"] == (
        f"Order {messages.display_number(order.number)} is still waiting for you"
        f" / 订单 {messages.display_number(order.number)} 仍在等您取货"
    )
    for part in (body, html):
        assert order.pickup_code in part
        assert "1 Nanjing Road" in part
        assert shown in part
        assert f"({django_settings.TIME_ZONE} time)" in part
    assert f"collect it by {shown}" in body
    assert "cancelled and refunded" in body
    assert order.pickup_reminded_at == due
    assert order.state == "ready_for_pickup"


def test_the_deadline_is_shown_in_the_shops_time_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    order = make_ready_pickup()
    Order.objects.filter(pk=order.pk).update(
        ready_at=datetime(2026, 11, 20, 18, 30, tzinfo=UTC),
        collect_by=datetime(2026, 11, 27, 18, 30, tzinfo=UTC),  # 02:30 next day there
    )
    order.refresh_from_db()

    with time_machine.travel(datetime(2026, 11, 26, 0, 0, tzinfo=UTC), tick=False):
        pickup_reminders.remind_uncollected_pickups()

    [email] = _reminders()
    assert "collect it by 2026-11-28 02:30 (Asia/Shanghai time)" in email.payload["body"]


def test_the_reminder_is_noted_on_the_timeline_and_shown_in_the_back_office(admin_client):
    order = make_ready_pickup()
    _remind_at(_at(order, timedelta(days=5, hours=1)))

    event = OrderEvent.objects.get(
        order=order, kind=OrderEventKind.EMAIL, data__template="pickup_reminder"
    )
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/")

    assert event.message == _reminders()[0].payload["subject"]
    assert event.data["deadline"] in _reminders()[0].payload["body"]
    assert page.status_code == 200
    shown = re.findall(r'<td class="field-message_shown">\s*<p>(.*?)</p>', page.content.decode())
    assert f"Order {messages.display_number(order.number)} is still waiting for you" in " ".join(
        shown
    )


def test_remind_sends_nothing_when_not_yet_due():
    order = make_ready_pickup()

    reminded = _remind_at(_at(order, timedelta(days=5) - timedelta(minutes=1)))

    order.refresh_from_db()
    assert reminded == 0
    assert _reminders() == []
    assert order.pickup_reminded_at is None


def test_remind_sends_nothing_when_the_order_was_picked_up():
    shop = make_shop()
    order = make_ready_pickup(shop)
    pickup.hand_over(store_id=shop.store.pk, code=order.pickup_code, actor=ACTOR)

    reminded = _remind_at(_at(order, timedelta(days=5, hours=1)))

    assert reminded == 0
    assert _reminders() == []
    assert Order.objects.get(pk=order.pk).pickup_reminded_at is None


def test_remind_sends_nothing_when_the_order_was_cancelled():
    order = make_ready_pickup()
    cancellation.cancel_order(order_id=order.pk, actor=ACTOR, reason="changed", by_shopper=False)

    reminded = _remind_at(_at(order, timedelta(days=5, hours=1)))

    assert reminded == 0
    assert _reminders() == []


def test_remind_sends_nothing_once_the_deadline_has_passed():
    order = make_ready_pickup()  # e.g. the worker was down: cancelled next, not reminded

    reminded = _remind_at(_at(order, timedelta(days=7, minutes=1)))

    assert reminded == 0
    assert _reminders() == []


def test_remind_twice_sends_one_email():
    order = make_ready_pickup()
    due = _at(order, timedelta(days=5, hours=1))

    first = _remind_at(due)
    second = _remind_at(due + timedelta(hours=1))

    order.refresh_from_db()
    assert (first, second) == (1, 0)
    assert len(_reminders()) == 1
    assert order.pickup_reminded_at == due
    assert OrderEvent.objects.filter(order=order, data__template="pickup_reminder").count() == 1


def test_the_outbox_key_keeps_one_email_even_if_the_mark_is_lost():
    order = make_ready_pickup()
    _remind_at(_at(order, timedelta(days=5, hours=1)))
    Order.objects.filter(pk=order.pk).update(pickup_reminded_at=None)

    _remind_at(_at(order, timedelta(days=5, hours=2)))

    assert len(_reminders()) == 1


@pytest.mark.parametrize("days", [0, -1, 7, 9])
def test_remind_is_off_when_reminder_days_is_zero_or_not_below_the_uncollected_days(settings, days):
    settings.PICKUP_REMINDER_DAYS = days
    order = make_ready_pickup()

    reminded = _remind_at(_at(order, timedelta(days=6, hours=23)))

    assert reminded == 0
    assert _reminders() == []
    assert Order.objects.get(pk=order.pk).pickup_reminded_at is None


def test_reminder_days_follow_the_setting(settings):
    settings.PICKUP_REMINDER_DAYS = 1
    order = make_ready_pickup()

    early = _remind_at(_at(order, timedelta(days=5, hours=1)))
    on_time = _remind_at(_at(order, timedelta(days=6, hours=1)))

    assert (early, on_time) == (0, 1)


def test_only_due_orders_are_reminded_and_oldest_first_up_to_the_limit():
    shop = make_shop()
    old, older, fresh = make_ready_pickup(shop), make_ready_pickup(shop), make_ready_pickup(shop)
    now = clock.now()
    Order.objects.filter(pk=old.pk).update(collect_by=now + timedelta(days=1, hours=23))
    Order.objects.filter(pk=older.pk).update(collect_by=now + timedelta(days=1, hours=22))

    reminded = pickup_reminders.remind_uncollected_pickups(now=now, limit=1)
    rest = pickup_reminders.remind_uncollected_pickups(now=now)

    assert (reminded, rest) == (1, 1)
    assert [m.dedupe_key.rsplit(":pickup_reminder:", 1)[0] for m in _reminders()] == [
        f"email:order:{older.number}",
        f"email:order:{old.number}",
    ]
    assert Order.objects.get(pk=fresh.pk).pickup_reminded_at is None


def test_a_failing_order_is_logged_and_the_others_are_still_reminded(caplog):
    shop = make_shop()
    first, second = make_ready_pickup(shop), make_ready_pickup(shop)
    now = clock.now()
    Order.objects.filter(pk=first.pk).update(collect_by=now + timedelta(days=1, hours=22))
    Order.objects.filter(pk=second.pk).update(collect_by=now + timedelta(days=1, hours=23))
    real = outbox.send_email
    calls = []

    def flaky(**kwargs):  # the mail queue refuses the first email only
        calls.append(kwargs["dedupe_key"])
        if len(calls) == 1:
            raise RuntimeError("outbox unavailable")
        real(**kwargs)

    with mock.patch.object(messages.outbox, "send_email", side_effect=flaky):
        reminded = pickup_reminders.remind_uncollected_pickups(now=now)
    again = pickup_reminders.remind_uncollected_pickups(now=now + timedelta(hours=1))

    assert reminded == 1
    assert "reminding of uncollected order" in caplog.text
    assert Order.objects.get(pk=second.pk).pickup_reminded_at == now
    # The failed one was rolled back whole (no mark, no timeline event): the next run sends it.
    assert again == 1
    assert len(_reminders(first)) == 1
    assert OrderEvent.objects.filter(order=first, data__template="pickup_reminder").count() == 1


def test_the_uncollected_cancellation_still_happens_after_a_reminder():
    order = make_ready_pickup()
    _remind_at(_at(order, timedelta(days=5, hours=1)))

    with time_machine.travel(_at(order, timedelta(days=7, minutes=1)), tick=False):
        cancelled = tasks.cancel_uncollected_pickups_task()

    order.refresh_from_db()
    assert cancelled == 1
    assert order.state == "cancelled"
    assert order.amount_refunded == order.amount_paid
    assert len(_reminders()) == 1
    assert OutboxMessage.objects.filter(kind="email", topic="order.cancelled").count() == 1


def test_sending_the_last_email_again_repeats_the_reminder_with_its_deadline():
    order = make_ready_pickup()
    _remind_at(_at(order, timedelta(days=5, hours=1)))

    template = messages.resend_last_email(order_id=order.pk, actor=ACTOR)

    first, again = _reminders()
    assert template == "pickup_reminder"
    assert again.payload["body"] == first.payload["body"]


def test_the_reminder_task_is_registered_and_scheduled_hourly():
    scheduled = {
        entry["task"]: entry["schedule"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
    }

    assert "orders.remind_uncollected_pickups" in app.tasks
    assert scheduled["orders.remind_uncollected_pickups"] == 60 * 60.0
