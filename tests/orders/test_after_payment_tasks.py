"""After a payment commits, one worker task: the allocation, which then delivers the
payment's outbox messages (the paid email); with no broker both run inline."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from omnimall.celery import app
from omnimall.core.models import OutboxMessage, OutboxState
from omnimall.orders import tasks
from omnimall.orders.models import Order
from omnimall.orders.services import fulfilment, payment
from tests.orders.factories import make_shop, notification, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_broker():
    """As with a broker: tasks are queued, not run inline."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = eager


def _paid_email(order: Order) -> OutboxMessage:
    return OutboxMessage.objects.get(topic="order.paid", destination=order.email)


def test_with_a_broker_the_payment_queues_one_task_carrying_the_email(
    django_capture_on_commit_callbacks, monkeypatch, with_broker
):
    shop = make_shop()
    placed = place(shop)
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, kwargs=None, **_: sent.append((name, kwargs))
    )

    with django_capture_on_commit_callbacks(execute=True):
        payment.settle_notification(
            gateway="sandbox", params=notification(placed.order_id), remote_addr=None
        )

    order = Order.objects.get(pk=placed.order_id)
    email = _paid_email(order)
    assert sent == [("orders.allocate_order", {"order_id": order.pk, "message_ids": [email.pk]})]
    assert email.state == OutboxState.PENDING
    mail.outbox.clear()

    tasks.allocate_order_task(**sent[0][1])

    order.refresh_from_db()
    assert order.state == "allocated"
    assert _paid_email(order).state == OutboxState.DELIVERED
    assert [m.to for m in mail.outbox] == [[order.email]]


def test_the_email_is_delivered_even_when_the_allocation_fails(
    django_capture_on_commit_callbacks, monkeypatch, with_broker
):
    shop = make_shop()
    placed = place(shop)
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(app, "send_task", lambda name, kwargs=None, **_: sent.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        payment.settle_notification(
            gateway="sandbox", params=notification(placed.order_id), remote_addr=None
        )

    def broken(**_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(fulfilment, "allocate_order", broken)
    with pytest.raises(RuntimeError):
        tasks.allocate_order_task(**sent[0])

    order = Order.objects.get(pk=placed.order_id)
    assert order.state == "paid"  # the sweep allocates it later
    assert _paid_email(order).state == OutboxState.DELIVERED


def test_without_a_broker_allocation_and_email_run_inline(django_capture_on_commit_callbacks):
    shop = make_shop()
    placed = place(shop)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        payment.settle_notification(
            gateway="sandbox", params=notification(placed.order_id), remote_addr=None
        )

    order = Order.objects.get(pk=placed.order_id)
    assert order.state == "allocated"
    assert _paid_email(order).state == OutboxState.DELIVERED
    assert len(mail.outbox) == 1


def test_an_old_task_without_message_ids_still_allocates(django_capture_on_commit_callbacks):
    shop = make_shop()
    placed = place(shop)
    with django_capture_on_commit_callbacks(execute=False):
        payment.settle_notification(
            gateway="sandbox", params=notification(placed.order_id), remote_addr=None
        )

    tasks.allocate_order_task(order_id=placed.order_id)

    assert Order.objects.get(pk=placed.order_id).state == "allocated"
