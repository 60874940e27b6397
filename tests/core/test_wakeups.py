"""Coalesced wake-ups: one waiting wake-up serves every commit until the task starts."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from omnimall.core import outbox, wakeups
from omnimall.core import tasks as core_tasks
from omnimall.core.models import OutboxMessage, OutboxState

TASK = "core.deliver_outbox"


@pytest.fixture
def shared_cache(tmp_path):
    """A cache every process sees (as Redis in production): here, files."""
    backend = "django.core.cache.backends.filebased.FileBasedCache"
    with override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": str(tmp_path)}}):
        cache.clear()
        yield


def test_while_a_wake_up_waits_no_other_is_published(shared_cache, published_tasks):
    wakeups.wake(TASK)
    wakeups.wake(TASK)
    wakeups.wake("orders.allocate_paid_orders")  # another task has its own mark

    assert published_tasks == [(TASK, None), ("orders.allocate_paid_orders", None)]


def test_once_the_task_starts_the_next_commit_wakes_it_again(shared_cache, published_tasks):
    wakeups.wake(TASK)
    wakeups.woken(TASK)  # the task, before it looks for work
    wakeups.wake(TASK)

    assert published_tasks == [(TASK, None), (TASK, None)]


def test_a_lost_wake_up_blocks_later_ones_only_until_its_mark_expires(
    shared_cache, published_tasks
):
    wakeups.wake(TASK)
    cache.delete(f"omnimall:wakeup:{TASK}")  # what PENDING_SECONDS later does
    wakeups.wake(TASK)

    assert published_tasks == [(TASK, None), (TASK, None)]
    assert 0 < wakeups.PENDING_SECONDS <= 60


def test_with_a_cache_of_its_own_per_process_every_wake_publishes(published_tasks):
    wakeups.wake(TASK)  # the test settings' cache is local memory
    wakeups.wake(TASK)

    assert published_tasks == [(TASK, None), (TASK, None)]


@pytest.mark.django_db(transaction=True)
def test_messages_written_by_many_commits_go_out_in_one_run(
    shared_cache, published_tasks, mailoutbox
):
    for n in range(3):
        with transaction.atomic():
            outbox.send_email(
                to=f"shopper{n}@example.com",
                subject="Hello",
                body="…",
                topic="order.placed",
                dedupe_key=f"wakeups:{n}",
            )

    assert published_tasks == [(TASK, None)]  # three commits, one wake-up
    assert core_tasks.deliver_outbox_task() == {"delivered": 3, "failed": 0, "dead": 0}
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxState.DELIVERED}
    assert len(mailoutbox) == 3

    with transaction.atomic():  # the run took the mark away: the next commit wakes it
        outbox.send_email(
            to="late@example.com", subject="Hi", body="…", topic="order.placed", dedupe_key="late"
        )
    assert published_tasks == [(TASK, None), (TASK, None)]


class _BrokenCache:
    def add(self, *_: object, **__: object) -> bool:
        raise ConnectionError("cache down")

    def delete(self, *_: object, **__: object) -> None:
        raise ConnectionError("cache down")


def test_with_the_cache_down_every_wake_publishes_and_the_task_still_runs(
    shared_cache, published_tasks, monkeypatch, caplog
):
    monkeypatch.setattr(wakeups, "cache", _BrokenCache())

    wakeups.wake(TASK)
    wakeups.wake(TASK)
    wakeups.woken(TASK)  # no error for the task either

    assert published_tasks == [(TASK, None), (TASK, None)]
    assert "cache unreachable" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_run_that_reaches_its_limit_wakes_the_task_again(
    shared_cache, published_tasks, mailoutbox, monkeypatch
):
    """The last commits of a burst can leave more than one run takes: no commit follows to
    wake the task, so the run itself does (else the rest waits for the periodic run)."""
    monkeypatch.setattr(core_tasks, "DRAIN_LIMIT", 20)
    with transaction.atomic():
        for n in range(25):
            outbox.send_email(
                to=f"s{n}@example.com", subject="Hi", body="…", topic="t", dedupe_key=f"b:{n}"
            )
    assert published_tasks == [(TASK, None)]

    assert core_tasks.deliver_outbox_task() == {"delivered": 20, "failed": 0, "dead": 0}
    assert published_tasks == [(TASK, None), (TASK, None)]  # woken again: 5 are left

    assert core_tasks.deliver_outbox_task() == {"delivered": 5, "failed": 0, "dead": 0}
    assert published_tasks == [(TASK, None), (TASK, None)]  # nothing left: no wake-up
    assert len(mailoutbox) == 25


def test_with_the_broker_down_wake_ups_pause_and_resume(shared_cache, monkeypatch, caplog):
    """A commit must not wait on a dead broker's retries each time; the work waits in
    the database and the first wake-up after the pause publishes again."""
    from omnimall.celery import app

    monkeypatch.setattr(wakeups, "_broker_paused_until", [0.0])
    tries: list[str] = []

    def down(name: str, **_: object) -> None:
        tries.append(name)
        raise ConnectionError("broker down")

    monkeypatch.setattr(app, "send_task", down)
    wakeups.wake(TASK)  # fails: pauses
    wakeups.wake(TASK)
    wakeups.wake("orders.allocate_paid_orders")
    assert tries == [TASK]
    assert "broker unreachable" in caplog.text

    sent: list[str] = []
    monkeypatch.setattr(app, "send_task", lambda name, **_: sent.append(name))
    wakeups._broker_paused_until[0] = 0.0  # the pause is over
    wakeups.wake(TASK)

    assert sent == [TASK]  # its mark was cleared when publishing failed
