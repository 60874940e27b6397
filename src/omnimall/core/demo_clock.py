"""The demo's periodic work: ``CELERY_BEAT_SCHEDULE`` run inside ``omnimall demo``.

Production runs ``celery beat`` beside the worker (``omnimall worker -B``). The demo has
neither broker nor worker (tasks run inline), and Celery's own beat cannot stand in: it
publishes every task through a broker connection. Without a clock nothing periodic would
happen in the demo: an unpaid order would keep its stock for ever, a failed email or
gateway notification would never be retried, no pick-up reminder would leave, and
``/healthz?full=1`` would call the shop degraded for the undelivered messages.

One daemon thread runs each entry when its Celery schedule says it is due (the first run
one interval after the start, as beat does), one task at a time, eagerly in this process.
A task that fails is logged and runs again at its next time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery import Celery, Task
from celery.schedules import BaseSchedule, maybe_schedule
from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

# How long the thread sleeps at most between looks (a stop request waits no longer).
MAX_SLEEP_SECONDS = 5.0


@dataclass(slots=True)
class _Entry:
    name: str
    task: Task
    schedule: BaseSchedule
    last_run_at: datetime
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class DemoClock(threading.Thread):
    """Runs ``schedule`` (the shape of ``CELERY_BEAT_SCHEDULE``) until ``stop()``."""

    def __init__(self, app: Celery, schedule: Mapping[str, Mapping[str, Any]]) -> None:
        super().__init__(name="omnimall-demo-clock", daemon=True)
        started = app.now()
        self.entries = [
            _Entry(
                name=name,
                task=app.tasks[entry["task"]],
                schedule=maybe_schedule(entry["schedule"], app=app),
                last_run_at=started,
                args=tuple(entry.get("args", ())),
                kwargs=dict(entry.get("kwargs", {})),
            )
            for name, entry in schedule.items()
        ]
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            self._stopping.wait(self.tick())

    def tick(self) -> float:
        """Run every entry that is due; returns the seconds until the next look."""
        sleep = MAX_SLEEP_SECONDS
        for entry in self.entries:
            due, next_in = entry.schedule.is_due(entry.last_run_at)
            if due:
                entry.last_run_at = entry.schedule.now()
                self._run(entry)
            sleep = min(sleep, next_in)
        return max(sleep, 0.0)

    def stop(self) -> None:
        self._stopping.set()

    def _run(self, entry: _Entry) -> None:
        # As a worker does before each task: a broken or expired connection is replaced.
        # Not inside a caller's transaction (a test's): closing would end it.
        if not connection.in_atomic_block:
            close_old_connections()
        try:
            entry.task.apply(args=entry.args, kwargs=entry.kwargs, throw=True)
        except Exception:  # the next run tries again; the demo keeps serving
            logger.exception("scheduled task %s (%s) failed", entry.name, entry.task.name)
