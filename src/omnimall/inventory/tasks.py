"""Periodic stock work. Thin: each task calls one service."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="inventory.release_expired_reservations")
def release_expired_reservations_task() -> int:
    """Expire lapsed holds (schedule every minute); returns how many were expired."""
    return services.release_expired_reservations()
