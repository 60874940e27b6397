"""Forgetting carts nobody will come back to (nightly: ``checkout.purge_stale_carts``).

Every visitor who puts something in the bag, and every app that calls ``POST /carts``,
leaves a cart row behind; without a purge they pile up for ever. A cart goes when it has
been left alone long enough (its last activity: the later of ``Cart.updated_at`` and its
lines' ``added_at``, ``services.carts``):

* a guest's open cart after ``CART_GUEST_DAYS`` (30);
* a signed-in shopper's open cart — their saved bag — after ``CART_ACCOUNT_DAYS`` (90);
* an open cart that never had a line after a day (a visitor or an app that went away);
* a checked-out or merged cart once its checkout can no longer be retried (the
  idempotency keys' window, 30 days). Orders keep their own copy of everything and the
  cart's token as text, so no order loses anything.

Deleted in chunks, each in its own short transaction; a cart that came back to life
between the read and the delete (a line added) is kept, because the delete checks again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from omnimall.checkout.models import Cart, CartLine, CartState
from omnimall.core import clock, idempotency

CHUNK = 1000
EMPTY_CART_HOURS = 24


def _left_alone_since(cutoff: datetime) -> Q:
    """Nothing happened to the cart since ``cutoff``: not the cart, not a line added."""
    recent_line = CartLine.objects.filter(cart=OuterRef("pk"), added_at__gte=cutoff)
    return Q(updated_at__lt=cutoff) & ~Q(Exists(recent_line))


def stale_carts(now: datetime) -> Q:
    """Which carts the purge deletes at ``now`` (see the module docstring)."""
    days = timedelta(days=1)
    open_ = Q(state=CartState.OPEN)
    return (
        (open_ & Q(user__isnull=True) & _left_alone_since(now - settings.CART_GUEST_DAYS * days))
        | (
            open_
            & Q(user__isnull=False)
            & _left_alone_since(now - settings.CART_ACCOUNT_DAYS * days)
        )
        | (
            open_
            & Q(updated_at__lt=now - timedelta(hours=EMPTY_CART_HOURS))
            & ~Q(Exists(CartLine.objects.filter(cart=OuterRef("pk"))))
        )
        | (~open_ & Q(updated_at__lt=now - idempotency.KEEP_FOR))
    )


def purge_stale_carts(*, now: datetime | None = None, chunk: int = CHUNK) -> int:
    """Delete the stale carts with their lines; how many carts went."""
    now = now or clock.now()
    stale = stale_carts(now)
    deleted = 0
    while True:
        ids = list(Cart.objects.filter(stale).order_by().values_list("pk", flat=True)[:chunk])
        if not ids:
            return deleted
        with transaction.atomic():
            # Filtered again: a line added since the read above keeps its cart.
            _, by_model = Cart.objects.filter(stale, pk__in=ids).delete()
        deleted += by_model.get(Cart._meta.label, 0)
        if len(ids) < chunk:
            return deleted
