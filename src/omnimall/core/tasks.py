"""Periodic housekeeping for core. Thin: each task calls one function."""

from __future__ import annotations

from celery import shared_task

from . import idempotency, outbox, wakeups
from .outbox.enqueue import DELIVER_TASK

# One run's most: a backlog beyond it waits for the next wake-up or periodic run.
DRAIN_LIMIT = 1000


@shared_task(name="core.purge_idempotency_keys")
def purge_idempotency_keys_task() -> int:
    """Forget idempotency keys past the retry window (schedule daily); returns how many."""
    return idempotency.purge_expired()


@shared_task(name=DELIVER_TASK, ignore_result=True)  # counts only for eager callers
def deliver_outbox_task(message_ids: list[int] | None = None) -> dict[str, int]:
    """Deliver every due outbox message (only ``message_ids`` when given), woken after the
    commits that write them and run periodically. Returns the counts."""
    wakeups.woken(DELIVER_TASK)
    return outbox.deliver_due(message_ids=message_ids, limit=DRAIN_LIMIT).as_dict()
