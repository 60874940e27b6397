"""Coalesced wake-ups for the worker's drain tasks.

Some after-commit work drains a queue kept in the database: the outbox delivery sends
every due message, the allocation moves every paid order on. Such a task needs to be
asked to run, not told which rows to take, so a commit only *wakes* it: ``wake(name)``
publishes the task unless a wake-up for it is already waiting in the broker. Under load
one run then takes many orders' work (one claim for many messages), instead of one
task, one broker round trip and one worker dispatch per order.

The "already waiting" mark is a cache key added atomically (``cache.add``: Redis
``SET NX``) and removed by the task as it starts (``woken(name)``), before it looks for
work. So no work is missed: a commit that found the mark set committed before the task
removed it, and the task's search sees that commit. The mark also expires after
``PENDING_SECONDS``, so a wake-up lost in the broker stops no later one; the periodic
runs of the same tasks remain the safety net.

The mark must be shared by every process: with a per-process cache (no
``OMNIMALL_REDIS_URL``) every commit publishes, as before coalescing.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache

from omnimall.celery import app as celery_app

logger = logging.getLogger(__name__)

PENDING_SECONDS = 30
BROKER_PAUSE_SECONDS = 10.0
# Until when (monotonic) wake-ups are not published, after the broker failed; a list so
# every thread of the process shares it.
_broker_paused_until = [0.0]
_KEY = "omnimall:wakeup:{}"


def _shared() -> bool:
    return not isinstance(caches["default"], LocMemCache)


def wake(task_name: str) -> None:
    """Publish ``task_name`` (no arguments) unless a wake-up for it is already waiting.

    With the cache unreachable it publishes anyway: a wake-up too many costs one empty
    run, one too few would leave the work to the periodic runs.

    With the broker unreachable, publishing fails after the client's retries (1.6 s
    here), and every commit that wakes a task (each order placed, each payment) would
    wait that long before answering. So after a failure nothing is published for
    ``BROKER_PAUSE_SECONDS``: the work stays in the database, and the first wake-up after
    the pause (or a periodic run) takes all of it, since drain tasks look for work rather
    than being told which."""
    if time.monotonic() < _broker_paused_until[0]:
        return
    if _shared():
        try:
            if not cache.add(_KEY.format(task_name), 1, PENDING_SECONDS):
                return
        except Exception:  # any backend's connection error
            logger.warning("cache unreachable: waking %s without coalescing", task_name)
    try:
        celery_app.send_task(task_name)
    except Exception:  # the broker's connection error, after its own retries
        _broker_paused_until[0] = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.exception(
            "broker unreachable: %s not woken; wake-ups paused for %ss, the work waits",
            task_name,
            BROKER_PAUSE_SECONDS,
        )
        if _shared():
            woken(task_name)  # so the next wake-up after the pause publishes


def woken(task_name: str) -> None:
    """Called by a drain task before it looks for work: later commits wake it again (with
    the cache unreachable, the mark expires by itself and ``wake`` publishes anyway)."""
    if _shared():
        try:
            cache.delete(_KEY.format(task_name))
        except Exception:  # any backend's connection error
            logger.warning("cache unreachable: %s's wake-up mark left to expire", task_name)
