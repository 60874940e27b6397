"""After a payment commits: with a broker, the worker's drain tasks are woken (the
allocation of every waiting paid order; the outbox delivery, which sends the paid email);
with no broker both run inline for this order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from omnimall.core import clock
from omnimall.core import tasks as core_tasks
from omnimall.core.models import OutboxMessage, OutboxState
from omnimall.orders import tasks
from omnimall.orders.models import Order
from omnimall.orders.services import fulfilment, payment
from tests.orders.factories import make_shop, notification, place

pytestmark = pytest.mark.django_db


def _paid_email(order: Order) -> OutboxMessage:
    return OutboxMessage.objects.get(topic="order.paid", destination=order.email)


def _pay(order_id: int, capture) -> Order:
    with capture(execute=True):
        payment.settle_notification(
            gateway="sandbox", params=notification(order_id), remote_addr=None
        )
    return Order.objects.get(pk=order_id)


def test_with_a_broker_the_payment_wakes_the_allocation_and_the_delivery(
    django_capture_on_commit_callbacks, published_tasks
):
    shop = make_shop()
    order = _pay(place(shop).order_id, django_capture_on_commit_callbacks)

    assert sorted(published_tasks) == [
        ("core.deliver_outbox", None),
        ("orders.allocate_paid_orders", None),
    ]  # no order id, no message ids: the tasks find their work
    assert order.state == "paid"
    assert _paid_email(order).state == OutboxState.PENDING
    mail.outbox.clear()

    assert tasks.allocate_paid_orders_task() == 1
    core_tasks.deliver_outbox_task()

    order.refresh_from_db()
    assert order.state == "allocated"
    assert _paid_email(order).state == OutboxState.DELIVERED
    # One run sends every due message: the placed email (queued while the worker was
    # not running here) goes out with the paid one.
    assert [m.to for m in mail.outbox] == [[order.email], [order.email]]
    assert not OutboxMessage.objects.filter(state=OutboxState.PENDING).exists()


def test_one_run_allocates_every_waiting_order_and_a_second_finds_nothing(
    django_capture_on_commit_callbacks, published_tasks
):
    shop = make_shop()
    first = _pay(place(shop).order_id, django_capture_on_commit_callbacks)
    second = _pay(place(shop).order_id, django_capture_on_commit_callbacks)

    assert tasks.allocate_paid_orders_task() == 2
    assert tasks.allocate_paid_orders_task() == 0

    assert Order.objects.get(pk=first.pk).state == "allocated"
    assert Order.objects.get(pk=second.pk).state == "allocated"


def test_the_email_is_delivered_even_when_the_allocation_fails(
    django_capture_on_commit_callbacks, monkeypatch, published_tasks
):
    shop = make_shop()
    order = _pay(place(shop).order_id, django_capture_on_commit_callbacks)

    def broken(**_: object) -> bool:
        raise RuntimeError("boom")

    monkeypatch.setattr(fulfilment, "allocate_order", broken)
    assert tasks.allocate_paid_orders_task() == 0  # logged; the order is left waiting
    core_tasks.deliver_outbox_task()

    order.refresh_from_db()
    assert order.state == "paid"
    assert _paid_email(order).state == OutboxState.DELIVERED


def test_orders_flagged_or_paid_long_ago_are_left_to_staff_and_the_sweep(
    django_capture_on_commit_callbacks, published_tasks
):
    shop = make_shop()
    flagged = _pay(place(shop).order_id, django_capture_on_commit_callbacks)
    stuck = _pay(place(shop).order_id, django_capture_on_commit_callbacks)
    Order.objects.filter(pk=flagged.pk).update(needs_attention=True)
    Order.objects.filter(pk=stuck.pk).update(
        paid_at=clock.now() - fulfilment.STUCK_AFTER - timedelta(seconds=1)
    )

    assert tasks.allocate_paid_orders_task() == 0

    assert fulfilment.allocate_stuck_orders() == 1
    assert Order.objects.get(pk=stuck.pk).state == "allocated"
    assert Order.objects.get(pk=flagged.pk).state == "paid"


def test_without_a_broker_allocation_and_email_run_inline(django_capture_on_commit_callbacks):
    shop = make_shop()
    placed = place(shop)
    mail.outbox.clear()

    order = _pay(placed.order_id, django_capture_on_commit_callbacks)

    assert order.state == "allocated"
    assert _paid_email(order).state == OutboxState.DELIVERED
    assert len(mail.outbox) == 1


def test_a_run_takes_batch_after_batch_and_tries_a_failing_order_once(
    django_capture_on_commit_callbacks, monkeypatch, published_tasks
):
    shop = make_shop()
    orders = [_pay(place(shop).order_id, django_capture_on_commit_callbacks) for _ in range(3)]
    broken_id = orders[0].pk
    tried: list[int] = []
    allocate = fulfilment.allocate_order

    def first_one_fails(*, order_id: int) -> bool:
        tried.append(order_id)
        if order_id == broken_id:
            raise RuntimeError("boom")
        return allocate(order_id=order_id)

    monkeypatch.setattr(fulfilment, "allocate_order", first_one_fails)

    assert fulfilment.allocate_paid_orders(batch=1) == 2  # three reads of one order each

    assert sorted(tried) == sorted(o.pk for o in orders)  # each tried once
    states = dict(Order.objects.filter(pk__in=tried).values_list("pk", "state"))
    assert states == {o.pk: ("paid" if o.pk == broken_id else "allocated") for o in orders}
