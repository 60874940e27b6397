"""How long a pick-up waits at its store, and keeping it longer (``services.collect_by``):
the deadline, the shopper's one extension, customer service's later day, the holds, the
sweeps that honour the new deadline, and every refusal leaving everything as it was."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from omnimall.core import clock
from omnimall.core.models import AuditEntry, OutboxMessage, WebhookSubscription
from omnimall.core.roles import CUSTOMER_SERVICE
from omnimall.inventory.models import Reservation, ReservationState
from omnimall.orders.errors import InvalidCollectByError, PickupNotKeptLongerError
from omnimall.orders.models import Order, OrderAllocation, OrderEvent
from omnimall.orders.services import cancellation, collect_by, pickup_reminders
from tests.inventory.factories import make_location
from tests.orders.factories import (
    ACTOR,
    make_paid_order,
    make_ready_pickup,
    make_shop,
    store_clerk,
)
from tests.orders.test_readdress_admin import page_url, staff_client

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.PICKUP_UNCOLLECTED_DAYS = 7
    settings.PICKUP_REMINDER_DAYS = 2
    settings.PICKUP_EXTENSION_DAYS = 3
    WebhookSubscription.objects.create(
        name="POS", url="https://pos.example.cn/hooks", secret="s", topics=["*"]
    )


@pytest.fixture
def order():
    return make_ready_pickup(make_shop(units=20))


def holds_until(order: Order) -> list[datetime]:
    ids = OrderAllocation.objects.filter(line__order=order, is_live=True).values_list(
        "reservation_id", flat=True
    )
    return sorted(
        Reservation.objects.filter(pk__in=ids, state=ReservationState.HELD).values_list(
            "expires_at", flat=True
        )
    )


def kept_emails(order: Order) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(
            kind="email", topic="order.pickup_kept", dedupe_key__contains=order.number
        )
    )


def kept_webhooks(order: Order) -> list[OutboxMessage]:
    return [
        m
        for m in OutboxMessage.objects.filter(kind="webhook", topic="order.pickup_kept")
        if m.payload.get("data", m.payload).get("number") == order.number
    ]


def test_a_pick_up_put_aside_must_be_collected_within_the_days_set(order):
    assert order.collect_by == order.ready_at + timedelta(days=7)
    [hook] = [
        m
        for m in OutboxMessage.objects.filter(kind="webhook", topic="order.ready_for_pickup")
        if m.payload["data"]["number"] == order.number
    ]
    assert hook.payload["data"]["collect_by"] == order.collect_by.isoformat()
    [ready] = OutboxMessage.objects.filter(kind="email", topic="order.ready_for_pickup")
    shown = collect_by.local_deadline(order.collect_by)
    assert f"Please collect it by {shown}" in ready.payload["body"]
    assert shown in ready.payload["html"]
    # Its holds last until the sweep has cancelled it, whenever it was paid.
    assert all(until >= order.collect_by + timedelta(days=1) for until in holds_until(order))


def test_the_shopper_keeps_it_three_days_longer_once(order):
    first_deadline = order.collect_by
    Order.objects.filter(pk=order.pk).update(pickup_reminded_at=clock.now())

    kept = collect_by.keep_longer(order_id=order.pk, actor=ACTOR)
    again = collect_by.keep_longer(order_id=order.pk, actor=ACTOR)

    assert kept.collect_by == first_deadline + timedelta(days=3)
    assert again.collect_by == kept.collect_by  # asked again: nothing changes
    assert kept.pickup_extended_at is not None
    assert kept.pickup_reminded_at is None  # reminded again before the new deadline
    assert all(until >= kept.collect_by + timedelta(days=1) for until in holds_until(order))
    [event] = OrderEvent.objects.filter(order=order, message__startswith="kept at the store")
    assert event.message == f"kept at the store until {collect_by.local_deadline(kept.collect_by)}"
    assert AuditEntry.objects.filter(action="order.pickup_kept", subject_id=str(order.pk)).count()
    [email] = kept_emails(order)
    assert collect_by.local_deadline(kept.collect_by) in email.payload["body"]
    assert order.pickup_code in email.payload["body"]
    [hook] = kept_webhooks(order)
    assert hook.payload["data"]["collect_by"] == kept.collect_by.isoformat()


def test_the_new_deadline_holds_off_the_uncollected_sweep_until_it_passes(order):
    kept = collect_by.keep_longer(order_id=order.pk, actor=ACTOR)

    at_old_deadline = cancellation.cancel_uncollected_pickups(
        now=order.collect_by + timedelta(hours=1)
    )
    assert at_old_deadline == 0
    assert Order.objects.get(pk=order.pk).state == "ready_for_pickup"

    at_new_deadline = cancellation.cancel_uncollected_pickups(
        now=kept.collect_by + timedelta(minutes=1)
    )
    order.refresh_from_db()
    assert at_new_deadline == 1
    assert order.state == "cancelled"
    assert order.amount_refunded == order.amount_paid


def test_a_shopper_reminded_and_then_keeping_it_is_reminded_again_before_the_new_date(order):
    first_deadline = order.collect_by
    with time_machine.travel(first_deadline - timedelta(days=2, minutes=-1), tick=False):
        assert pickup_reminders.remind_uncollected_pickups() == 1
        kept = collect_by.keep_longer(order_id=order.pk, actor=ACTOR)
        assert pickup_reminders.remind_uncollected_pickups() == 0  # not yet due again

    with time_machine.travel(kept.collect_by - timedelta(days=2, minutes=-1), tick=False):
        assert pickup_reminders.remind_uncollected_pickups() == 1

    reminders = OutboxMessage.objects.filter(
        kind="email", topic="order.pickup_reminder", dedupe_key__contains=order.number
    ).order_by("pk")
    assert [
        collect_by.local_deadline(d) in m.payload["body"]
        for d, m in zip((first_deadline, kept.collect_by), reminders, strict=True)
    ] == [True, True]


@pytest.mark.parametrize("when", ["allocated", "past_deadline", "off"])
def test_refusals_change_nothing(settings, when):
    shop = make_shop(units=20)
    order = make_ready_pickup(shop)
    if when == "allocated":
        order = make_paid_order(shop, method="pickup")
    if when == "past_deadline":
        Order.objects.filter(pk=order.pk).update(collect_by=clock.now() - timedelta(minutes=1))
    if when == "off":
        settings.PICKUP_EXTENSION_DAYS = 0
    before = Order.objects.get(pk=order.pk)
    events = OrderEvent.objects.filter(order=order).count()

    with pytest.raises(PickupNotKeptLongerError) as refused:
        collect_by.keep_longer(order_id=order.pk, actor=ACTOR)

    after = Order.objects.get(pk=order.pk)
    assert refused.value.code == "pickup_not_extendable"
    assert refused.value.details["reason"] == ("off" if when == "off" else "not_waiting")
    assert (after.collect_by, after.pickup_extended_at) == (before.collect_by, None)
    assert OrderEvent.objects.filter(order=order).count() == events
    assert kept_emails(order) == []


def test_customer_service_keeps_it_until_a_later_day_and_the_same_day_again_is_harmless(
    order,
):
    day = timezone.localdate(order.collect_by) + timedelta(days=5)

    kept = collect_by.keep_until(order_id=order.pk, day=day, actor=ACTOR)
    again = collect_by.keep_until(order_id=order.pk, day=day, actor=ACTOR)

    local = timezone.localtime(kept.collect_by)
    assert (local.date(), local.hour, local.minute) == (day, 23, 59)
    assert again.collect_by == kept.collect_by
    assert kept.pickup_extended_at is None  # the shopper may still ask for their days
    assert len(kept_emails(order)) == 1


@pytest.mark.parametrize("days", [-1, 31])
def test_customer_service_cannot_pull_the_date_in_nor_keep_it_a_month(order, days):
    base = timezone.localdate(order.collect_by if days < 0 else clock.now())
    with pytest.raises(InvalidCollectByError):
        collect_by.keep_until(order_id=order.pk, day=base + timedelta(days=days), actor=ACTOR)
    assert Order.objects.get(pk=order.pk).collect_by == order.collect_by


# --- the order page, the Store API and the back office -------------------------------------


def test_the_order_page_shows_the_deadline_and_keeps_it_longer(client, order):
    detail = f"/orders/{order.number}/?token={order.guest_token}"
    keep = f"/orders/{order.number}/keep/?token={order.guest_token}"

    page = client.get(detail, **EN).content.decode()
    done = client.post(keep, **EN, follow=True)
    after = done.content.decode()

    shown = timezone.localtime(order.collect_by).strftime("%Y-%m-%d %H:%M")
    assert f"Collect it by <strong>{shown}</strong>" in page
    assert f'action="{keep}"' in page
    assert "Keep it 3 more days" in page
    new = Order.objects.get(pk=order.pk).collect_by
    assert f"The store keeps your order until {collect_by.local_deadline(new)}" in after
    assert "Keep it 3 more days" not in after  # once


def test_another_visitor_cannot_keep_it(client, order):
    response = client.post(f"/orders/{order.number}/keep/?token=not-the-token", **EN)
    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).pickup_extended_at is None


def test_the_store_api_keeps_it_longer_and_says_so(order):
    client = Client()
    url = f"/api/v1/orders/{order.number}"

    before = client.get(f"{url}?token={order.guest_token}").json()
    kept = client.post(
        f"{url}/keep-longer",
        data=json.dumps({"token": order.guest_token}),
        content_type="application/json",
    )
    again = client.post(
        f"{url}/keep-longer",
        data=json.dumps({"token": order.guest_token}),
        content_type="application/json",
    )

    assert before["can_keep_longer"] is True
    assert before["collect_by"] is not None
    assert kept.status_code == 200
    assert kept.json()["can_keep_longer"] is False
    assert again.status_code == 200
    assert again.json()["collect_by"] == kept.json()["collect_by"]
    assert len(kept_emails(order)) == 1


def test_the_store_api_refuses_an_order_not_waiting_with_409():
    order = make_paid_order(make_shop(units=20), method="pickup")
    response = Client().post(
        f"/api/v1/orders/{order.number}/keep-longer",
        data=json.dumps({"token": order.guest_token}),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "pickup_not_extendable"


def test_customer_service_keeps_it_from_the_back_office(order):
    client, _agent = staff_client(CUSTOMER_SERVICE)
    url = reverse("admin:orders_order_keep", args=[order.pk])
    day = timezone.localdate(order.collect_by) + timedelta(days=4)

    page = client.get(page_url(order)).content.decode()
    form = client.get(url).content.decode()
    too_late = client.post(url, {"day": (clock.now().date() + timedelta(days=60)).isoformat()})
    done = client.post(url, {"day": day.isoformat()}, follow=True)

    assert f'href="{url}"' in page
    assert 'type="date"' in form
    assert too_late.status_code == 200  # shown again with the refusal
    assert "not more than 30 days ahead" in too_late.content.decode()
    assert "The store keeps the order longer" in done.content.decode()
    assert timezone.localdate(Order.objects.get(pk=order.pk).collect_by) == day


def test_the_sweep_leaves_a_pick_up_kept_longer_after_it_was_found(order):
    """The sweep lists due orders first and locks each as it cancels it: a shopper who kept
    theirs longer in between keeps it."""
    found_at = order.collect_by + timedelta(seconds=1)
    collect_by.keep_longer(order_id=order.pk, actor=ACTOR)

    with pytest.raises(cancellation.KeptLongerError):
        cancellation.cancel_order(
            order_id=order.pk,
            actor=ACTOR,
            reason="not collected",
            by_shopper=False,
            uncollected_at=found_at,
        )

    assert Order.objects.get(pk=order.pk).state == "ready_for_pickup"


def test_the_stores_own_staff_keep_it_longer_from_the_pick_up_desk_and_others_cannot(order):
    elsewhere = make_location("o-st-elsewhere", kind="store", offers_pickup=True)
    client, clerk = store_clerk(elsewhere)
    url = reverse("admin:orders_order_keep", args=[order.pk])
    day = timezone.localdate(order.collect_by) + timedelta(days=2)

    not_theirs = client.post(url, {"day": day.isoformat()})
    order.pickup_store.staff.add(clerk)
    desk = client.get(reverse("admin:orders_pickup_desk"), {"code": order.pickup_code})
    done = client.post(url, {"day": day.isoformat()})

    assert not_theirs.status_code == 404
    assert f'href="{url}"' in desk.content.decode()
    assert done.status_code == 302
    assert timezone.localdate(Order.objects.get(pk=order.pk).collect_by) == day


def test_the_desk_lists_the_shelf_nearest_deadline_first_for_the_stores_own_staff():
    shop = make_shop(units=20)
    later, sooner = make_ready_pickup(shop), make_ready_pickup(shop)
    Order.objects.filter(pk=sooner.pk).update(collect_by=clock.now() + timedelta(hours=5))
    collect_by.keep_longer(order_id=later.pk, actor=ACTOR)
    elsewhere = make_location("o-st-elsewhere", kind="store", offers_pickup=True)
    client, clerk = store_clerk(elsewhere)
    desk = reverse("admin:orders_pickup_desk")

    other_store = client.get(desk).content.decode()
    shop.store.staff.add(clerk)
    own_store = client.get(desk).content.decode()

    assert "Nothing is waiting to be collected." in other_store
    assert "Waiting on the shelf: 2 orders" in own_store
    shelf = own_store[own_store.index('id="shelf"') :]
    numbers = [shelf.index(o.number[:6] + " " + o.number[6:]) for o in (sooner, later)]
    assert numbers == sorted(numbers)  # the nearest deadline first
    assert 'class="due-soon"' in shelf
    assert "kept longer" in shelf
