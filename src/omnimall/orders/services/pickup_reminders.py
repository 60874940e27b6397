"""Reminding shoppers of a pick-up still waiting at the store, before it is cancelled.

A pick-up not collected by its deadline (``Order.collect_by``: ``PICKUP_UNCOLLECTED_DAYS``
after it is ready, later when kept longer) is cancelled and refunded
(``cancellation.cancel_uncollected_pickups``). ``PICKUP_REMINDER_DAYS`` before that
deadline the shopper gets one ``pickup_reminder`` email: the store, the code, and the
deadline in the shop's time zone. ``Order.pickup_reminded_at`` records that it went out
(and the outbox's dedupe key would drop a second one anyway), so a sweep that runs again,
or twice at once, sends it once; keeping the pick-up longer clears it, so the shopper is
reminded again before the new deadline.

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

from omnimall.core import clock
from omnimall.orders import domain
from omnimall.orders.models import Order

from . import messages, texts_to_shoppers
from .collect_by import local_deadline
from .sweeps import remind_each
from .timeline import lock_order

TEMPLATE = "pickup_reminder"


def reminder_lead() -> timedelta | None:
    """How long before ``collect_by`` the reminder is due; None when reminders are off."""
    days, uncollected = settings.PICKUP_REMINDER_DAYS, settings.PICKUP_UNCOLLECTED_DAYS
    if days <= 0 or days >= uncollected:
        return None
    return timedelta(days=days)


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
            collect_by__lte=now + lead,
            collect_by__gt=now,
            pickup_reminded_at__isnull=True,
        )
        .order_by("collect_by", "pk")
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
            or order.collect_by is None
        ):
            return False
        if order.collect_by <= now:
            return False
        # A string in the shop's TIME_ZONE, as the store reads it, so the timeline keeps it
        # and "send the last email again" says the same.
        collect_by = local_deadline(order.collect_by)
        # One reminder per deadline: a pick-up kept longer is reminded of its new one.
        once = order.collect_by.isoformat()
        messages.email_shopper(
            order,
            template=TEMPLATE,
            dedupe_suffix=once,
            extra={"deadline": collect_by, "time_zone": settings.TIME_ZONE},
        )
        texts_to_shoppers.text_shopper(
            order, moment="pickup_reminder", extra={"deadline": collect_by}, dedupe_suffix=once
        )
        order.pickup_reminded_at = now
        order.save(update_fields=["pickup_reminded_at", "updated_at"])
    return True
