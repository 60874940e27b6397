"""Periodic housekeeping for core. Thin: each task calls one function."""

from __future__ import annotations

from celery import shared_task

from . import idempotency


@shared_task(name="core.purge_idempotency_keys")
def purge_idempotency_keys_task() -> int:
    """Forget idempotency keys past the retry window (schedule daily); returns how many."""
    return idempotency.purge_expired()
