"""Reminding shoppers of a pick-up still waiting at the store, before it is cancelled.

A pick-up not collected within ``PICKUP_UNCOLLECTED_DAYS`` of being ready is cancelled and
refunded (``cancellation.cancel_uncollected_pickups``). ``PICKUP_REMINDER_DAYS`` before
that deadline the shopper gets one ``pickup_reminder`` email: the store, the code, and the
deadline in the shop's time zone. ``Order.pickup_reminded_at`` records that it went out
(and the outbox's dedupe key would drop a second one anyway), so a sweep that runs again,
or twice at once, sends it once.

Reminders are off when ``PICKUP_REMINDER_DAYS`` is 0 (or less), and when it is not below
``PICKUP_UNCOLLECTED_DAYS``: the reminder would be due the moment the order is ready,
next to the "ready for pick-up" email that already says the deadline. An order already
past its deadline (the worker was down, reminders were just turned on) is not reminded:
the cancellation sweep takes it, and "collect it by" a past date would mislead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from omnimall.core import clock
from omnimall.orders import domain
from omnimall.orders.models import Order

from . import messages, texts_to_shoppers
from .sweeps import remind_each
from .timeline import lock_order

TEMPLATE = "pickup_reminder"


def reminder_lead() -> timedelta | None:
    """How long after ``ready_at`` the reminder is due; None when reminders are off."""
    days, uncollected = settings.PICKUP_REMINDER_DAYS, settings.PICKUP_UNCOLLECTED_DAYS
    if days <= 0 or days >= uncollected:
        return None
    return timedelta(days=uncollected - days)


def remind_uncollected_pickups(*, now: datetime | None = None, limit: int = 200) -> int:
    """Email the shoppers whose pick-up is due for its reminder; how many were emailed."""
    lead = reminder_lead()
    if lead is None:
        return 0
    now = now or clock.now()
    # Few orders are ever ready for pick-up at once: the state index finds them.
    due = list(
        Order.objects.filter(
            state=domain.READY_FOR_PICKUP,
            ready_at__lte=now - lead,
            ready_at__gt=now - timedelta(days=settings.PICKUP_UNCOLLECTED_DAYS),
            pickup_reminded_at__isnull=True,
        )
        .order_by("ready_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return remind_each(
        due, lambda order_id: remind_pickup(order_id=order_id, now=now), which="uncollected"
    )


def remind_pickup(*, order_id: int, now: datetime | None = None) -> bool:
    """Queue the reminder for one ready pick-up and record it; False when it is no longer
    due (collected or cancelled meanwhile, already reminded, past its deadline)."""
    now = now or clock.now()
    with transaction.atomic():
        order = lock_order(order_id)
        if (
            order.state != domain.READY_FOR_PICKUP
            or order.pickup_reminded_at is not None
            or order.ready_at is None
        ):
            return False
        deadline = order.ready_at + timedelta(days=settings.PICKUP_UNCOLLECTED_DAYS)
        if deadline <= now:
            return False
        # A string in the shop's TIME_ZONE, as the store reads it, so the timeline keeps it
        # and "send the last email again" says the same.
        collect_by = f"{timezone.localtime(deadline):%Y-%m-%d %H:%M}"
        messages.email_shopper(
            order,
            template=TEMPLATE,
            extra={"deadline": collect_by, "time_zone": settings.TIME_ZONE},
        )
        texts_to_shoppers.text_shopper(
            order, moment="pickup_reminder", extra={"deadline": collect_by}
        )
        order.pickup_reminded_at = now
        order.save(update_fields=["pickup_reminded_at", "updated_at"])
    return True
