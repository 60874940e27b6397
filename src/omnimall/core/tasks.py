"""Periodic housekeeping for core. Thin: each task calls one function."""

from __future__ import annotations

from celery import shared_task

from . import idempotency, outbox


@shared_task(name="core.purge_idempotency_keys")
def purge_idempotency_keys_task() -> int:
    """Forget idempotency keys past the retry window (schedule daily); returns how many."""
    return idempotency.purge_expired()


@shared_task(name="core.deliver_outbox", ignore_result=True)  # counts only for eager callers
def deliver_outbox_task(message_ids: list[int] | None = None) -> dict[str, int]:
    """Deliver due outbox messages (only ``message_ids`` right after the commit that wrote
    them; every due message on the periodic run). Returns the counts."""
    return outbox.deliver_due(message_ids=message_ids).as_dict()
