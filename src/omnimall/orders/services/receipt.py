"""The shopper confirms receipt (确认收货), or the shop does it for them after a while.

A shipped order becomes ``delivered`` when a carrier or WMS says so, or staff do; many
parcels are never reported, though, and an order left ``shipped`` never completes: its
return window never starts and the points earned on it stay pending for ever. So, as on
China's marketplaces, the shopper may confirm receipt themselves, and a shipped order is
confirmed automatically ``DELIVERY_CONFIRM_DAYS`` after it shipped (the hourly task
``orders.confirm_overdue_deliveries``). Either way it is ``fulfilment.confirm_delivery``
with its own timeline text: one transition, one webhook, the same as a carrier's report.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_noop

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.orders import domain
from omnimall.orders.models import Order, OrderEvent, OrderEventKind
from omnimall.orders.texts import text

from .fulfilment import confirm_delivery

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("delivery confirmation")


def confirm_receipt(*, order_id: int, actor: Actor) -> Order:
    """The shopper has the parcel: ``shipped`` → ``delivered`` (again: no change)."""
    return confirm_delivery(
        order_id=order_id, actor=actor, message=gettext_noop("The shopper confirmed receipt.")
    )


def _overdue(now: datetime, days: int) -> list[int]:
    shipped_before = OrderEvent.objects.filter(
        order_id=OuterRef("pk"),
        kind=OrderEventKind.STATE,
        state_to=domain.SHIPPED,
        created_at__lte=now - timedelta(days=days),
    )
    return list(
        Order.objects.filter(state=domain.SHIPPED)
        .filter(Exists(shipped_before))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def confirm_overdue_deliveries(*, now: datetime | None = None, limit: int = 500) -> int:
    """Shipped orders nobody reported delivered within ``DELIVERY_CONFIRM_DAYS`` (0: never)
    of shipping: confirmed delivered by the shop. Returns how many."""
    days = settings.DELIVERY_CONFIRM_DAYS
    if days <= 0:
        return 0
    message = text(
        gettext_noop("Receipt confirmed automatically %(days)s days after shipping."), days=days
    )
    confirmed = 0
    for order_id in _overdue(now or clock.now(), days)[:limit]:
        try:
            confirm_delivery(order_id=order_id, actor=SYSTEM, message=message)
        except DomainError:  # moved on since it was listed (a staff cancel, say)
            logger.info("order %s was no longer shipped when its receipt was due", order_id)
            continue
        confirmed += 1
    return confirmed
