"""Closing orders whose return window has passed: delivered / picked up → completed.

An order completes once ``RETURN_WINDOW_DAYS`` have passed since it reached the shopper
and no return of it is still open; nothing can be asked of it after that (a return
request needs the window). The points earned on the order, pending until now, become
available (``points.settle_completed``) in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_noop

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.orders import domain
from omnimall.orders.models import (
    OPEN_RETURN_STATES,
    Order,
    OrderEvent,
    OrderEventKind,
    ReturnRequest,
)

from . import points as order_points
from . import timeline

SYSTEM = Actor.system("return window")


def _due(now: datetime) -> list[int]:
    cutoff = now - timedelta(days=settings.RETURN_WINDOW_DAYS)
    handed_over = OrderEvent.objects.filter(
        order_id=OuterRef("pk"),
        kind=OrderEventKind.STATE,
        state_to__in=(domain.DELIVERED, domain.PICKED_UP),
        created_at__lte=cutoff,
    )
    open_return = ReturnRequest.objects.filter(
        order_id=OuterRef("pk"), state__in=OPEN_RETURN_STATES
    )
    return list(
        # A partly refunded order (a return of some lines) closes too: the rest of its
        # pending points become available.
        Order.objects.filter(state__in=(domain.DELIVERED, domain.PICKED_UP, domain.PARTLY_REFUNDED))
        .filter(Exists(handed_over))
        .exclude(Exists(open_return))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def complete_orders(*, now: datetime | None = None, limit: int = 500) -> int:
    """Complete every order past its return window; returns how many (idempotent)."""
    now = now or clock.now()
    completed = 0
    for order_id in _due(now)[:limit]:
        with transaction.atomic():
            order = timeline.lock_order(order_id)
            if not domain.can_transition(order.state, domain.COMPLETED):
                continue  # moved on (a return, a refund) since it was listed
            timeline.transition(
                order,
                domain.COMPLETED,
                actor=SYSTEM,
                message=gettext_noop("The return window closed."),
            )
            order_points.settle_completed(order, actor=SYSTEM)
            completed += 1
    return completed
