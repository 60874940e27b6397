"""The periodic tasks, by the names the beat schedule uses."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest

from omnimall.celery import app
from omnimall.core import clock
from omnimall.orders import tasks
from omnimall.orders.models import Order
from omnimall.orders.services import payment
from tests.orders.factories import make_shop, notification, pay_at_gateway, place

pytestmark = pytest.mark.django_db


def test_every_scheduled_task_is_registered(settings):
    """A beat entry naming a task no worker knows would fail silently every time."""
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    # What a worker loads at start: every app's tasks module and CELERY_IMPORTS.
    app.autodiscover_tasks(force=True)
    for module in settings.CELERY_IMPORTS:
        importlib.import_module(module)

    assert "orders.cancel_uncollected_pickups" in scheduled
    assert scheduled - set(app.tasks.keys()) == set()


def test_sweep_allocates_a_paid_order_whose_allocation_never_ran():
    shop = make_shop()
    placed = place(shop)
    pay_at_gateway(placed.order_id)
    # Settled, but the after-commit allocation is lost (no on-commit callbacks run here).
    payment.settle_notification(
        gateway="sandbox", params=notification(placed.order_id), remote_addr=None
    )
    Order.objects.filter(pk=placed.order_id).update(paid_at=clock.now() - timedelta(minutes=10))

    tasks.expire_unpaid_orders_task()

    assert Order.objects.get(pk=placed.order_id).state == "allocated"


def test_expire_task_cancels_lapsed_unpaid_orders():
    shop = make_shop()
    placed = place(shop)
    Order.objects.filter(pk=placed.order_id).update(
        reserved_until=clock.now() - timedelta(minutes=1)
    )

    assert tasks.expire_unpaid_orders_task() == 1

    assert Order.objects.get(pk=placed.order_id).state == "cancelled"
