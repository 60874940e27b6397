"""Periodic partner work. Registered by ``omnimall.members.tasks`` importing this module."""

from __future__ import annotations

from celery import shared_task

from . import outbound


@shared_task(name="members.fail_stale_partner_transfers")
def fail_stale_partner_transfers_task() -> int:
    """Release outbound transfers whose request died or was never confirmed (every 10 min)."""
    return outbound.fail_stale_transfers()
