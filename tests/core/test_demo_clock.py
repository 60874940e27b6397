"""The demo's clock runs the real beat schedule in-process (no broker, no worker)."""

from __future__ import annotations

import importlib
import logging
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings

from omnimall import cli
from omnimall.celery import app
from omnimall.core import clock
from omnimall.core.demo_clock import DemoClock
from omnimall.orders.models import Order
from tests.inventory.factories import level_of
from tests.orders.factories import make_shop, place

pytestmark = pytest.mark.django_db


def _load_tasks() -> None:
    # What the loader's ``import_default_modules`` does in the demo, without its Django
    # fix-up running ``django.setup()`` again (which would reset the test's logging).
    app.autodiscover_tasks(force=True)
    for module in settings.CELERY_IMPORTS:
        importlib.import_module(module)


def _clock() -> DemoClock:
    _load_tasks()
    return DemoClock(app, settings.CELERY_BEAT_SCHEDULE)


def test_nothing_runs_before_its_first_interval_then_a_lapsed_order_is_cancelled():
    shop = make_shop()
    placed = place(shop)
    assert level_of(shop.warehouse, shop.skus[0]).reserved > 0
    Order.objects.filter(pk=placed.order_id).update(
        reserved_until=clock.now() - timedelta(minutes=1)
    )
    with time_machine.travel(clock.now(), tick=False) as traveller:
        demo_clock = _clock()
        assert demo_clock.tick() <= 10  # the outbox delivery is the soonest: every 10 s
        assert Order.objects.get(pk=placed.order_id).state == "pending_payment"

        traveller.shift(timedelta(seconds=61))  # "expire-unpaid-orders" runs every minute
        demo_clock.tick()

    assert Order.objects.get(pk=placed.order_id).state == "cancelled"
    assert level_of(shop.warehouse, shop.skus[0]).reserved == 0


def test_a_failing_task_is_logged_and_runs_again_at_its_next_time(caplog, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("the database went away")

    demo_clock = _clock()
    entry = next(e for e in demo_clock.entries if e.task.name == "core.deliver_outbox")
    monkeypatch.setattr(entry.task, "run", broken)
    with time_machine.travel(clock.now() + timedelta(seconds=11), tick=False) as traveller:
        with caplog.at_level(logging.ERROR, logger="omnimall.core.demo_clock"):
            demo_clock.tick()
        traveller.shift(timedelta(seconds=11))
        demo_clock.tick()

    assert len(calls) == 2
    assert "core.deliver_outbox" in caplog.text


def test_the_demo_starts_the_clock_only_without_a_broker(monkeypatch):
    started = []
    monkeypatch.setattr(DemoClock, "start", lambda self: started.append(self))
    monkeypatch.setattr(app.loader, "import_default_modules", _load_tasks)

    assert cli._start_demo_clock().startswith("in this process")
    assert len(started) == 1
    assert {e.task.name for e in started[0].entries} == {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    assert "omnimall worker -B" in cli._start_demo_clock()
    assert len(started) == 1
