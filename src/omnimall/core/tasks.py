"""Periodic housekeeping for core. Thin: each task calls one function."""

from __future__ import annotations

from celery import shared_task

from . import idempotency, outbox, shopper_tokens, wakeups
from .outbox.enqueue import DELIVER_TASK

# One run's most. A run that reaches it wakes the task again, so a backlog left when the
# commits stop is drained at once, while tasks queued meanwhile (allocations) get their turn.
DRAIN_LIMIT = 1000


@shared_task(name="core.purge_idempotency_keys")
def purge_idempotency_keys_task() -> int:
    """Forget idempotency keys past the retry window (schedule daily); returns how many."""
    return idempotency.purge_expired()


@shared_task(name="core.purge_shopper_tokens")
def purge_shopper_tokens_task() -> int:
    """Delete app sign-ins past their expiry (schedule daily); returns how many."""
    return shopper_tokens.purge_expired()


@shared_task(name=DELIVER_TASK, ignore_result=True)  # counts only for eager callers
def deliver_outbox_task(message_ids: list[int] | None = None) -> dict[str, int]:
    """Deliver every due outbox message (only ``message_ids`` when given), woken after the
    commits that write them and run periodically. Returns the counts."""
    wakeups.woken(DELIVER_TASK)
    report = outbox.deliver_due(message_ids=message_ids, limit=DRAIN_LIMIT)
    if report.stopped_at_limit:
        wakeups.wake(DELIVER_TASK)
    return report.as_dict()
