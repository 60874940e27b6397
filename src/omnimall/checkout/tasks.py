"""Background work of the cart: the nightly purge of carts nobody will come back to."""

from __future__ import annotations

from celery import shared_task

from omnimall.checkout.services.purge import purge_stale_carts


@shared_task(name="checkout.purge_stale_carts")
def purge_stale_carts_task() -> int:
    """Delete stale carts (schedule daily); returns how many."""
    return purge_stale_carts()
