"""Periodic members work. Thin: each task calls one service (schedules in settings)."""

from __future__ import annotations

from celery import shared_task

from omnimall.members.services import points


@shared_task(name="members.expire_points")
def expire_points_task() -> int:
    """Expire the points lots past their expiry (nightly); how many lots expired."""
    return points.expire_points()


@shared_task(name="members.release_expired_holds")
def release_expired_holds_task() -> int:
    """Give back the points of lapsed till holds (every minute); how many were released."""
    return points.release_expired_holds()


@shared_task(name="members.recalculate_tiers")
def recalculate_tiers_task() -> int:
    """Recalculate every member's tier from the rolling 12-month spend (nightly)."""
    from omnimall.members.services.tiers import recalculate_all_tiers

    return recalculate_all_tiers()


@shared_task(name="members.purge_partner_nonces")
def purge_partner_nonces_task() -> int:
    """Forget partner nonces older than the signature window (hourly)."""
    from omnimall.members.partners.services import purge_nonces

    return purge_nonces()
