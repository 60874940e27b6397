"""Reminding shoppers of an order still waiting for its payment, before its hold ends.

Checkout holds the stock for ``CHECKOUT_HOLD_MINUTES`` (15); an order not paid by then is
cancelled (``cancellation.expire_unpaid_orders``) and its units go back on sale. A shopper
who left the payment page (the bank app took too long, a call came in) gets one
``payment_reminder`` email ``PAYMENT_REMINDER_MINUTES`` (5) before that: the items, the
time the hold ends in the shop's time zone, and a link to the order page that pays. The
minute sweep finds them; ``Order.payment_reminded_at`` records that it went out (the
outbox's dedupe key would drop a second one anyway), so it is sent once.

Off when ``PAYMENT_REMINDER_MINUTES`` is 0 (or less) or not below the hold: the reminder
would leave with the "order placed" email. An order whose hold has ended is not reminded:
the cancellation sweep takes it.
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

TEMPLATE = "payment_reminder"


def reminder_lead() -> timedelta | None:
    """How long before the hold ends the reminder is due; None when reminders are off."""
    minutes = settings.PAYMENT_REMINDER_MINUTES
    if minutes <= 0 or minutes >= settings.CHECKOUT_HOLD_MINUTES:
        return None
    return timedelta(minutes=minutes)


def remind_unpaid_orders(*, now: datetime | None = None, limit: int = 200) -> int:
    """Email the shoppers whose unpaid order is due for its reminder; how many were emailed."""
    lead = reminder_lead()
    if lead is None:
        return 0
    now = now or clock.now()
    due = list(
        Order.objects.filter(
            state=domain.PENDING_PAYMENT,
            reserved_until__gt=now,
            reserved_until__lte=now + lead,
            payment_reminded_at__isnull=True,
        )
        .order_by("reserved_until", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return remind_each(
        due, lambda order_id: remind_payment(order_id=order_id, now=now), which="unpaid"
    )


def remind_payment(*, order_id: int, now: datetime | None = None) -> bool:
    """Queue the reminder for one unpaid order and record it; False when it is no longer
    due (paid or cancelled meanwhile, already reminded, its hold over)."""
    now = now or clock.now()
    with transaction.atomic():
        order = lock_order(order_id)
        if (
            order.state != domain.PENDING_PAYMENT
            or order.payment_reminded_at is not None
            or order.reserved_until is None
            or order.reserved_until <= now
        ):
            return False
        # A string in the shop's TIME_ZONE, so the timeline keeps it and "send the last
        # email again" says the same.
        deadline = f"{timezone.localtime(order.reserved_until):%H:%M}"
        messages.email_shopper(
            order,
            template=TEMPLATE,
            extra={"deadline": deadline, "time_zone": settings.TIME_ZONE},
        )
        texts_to_shoppers.text_shopper(
            order, moment="payment_reminder", extra={"deadline": deadline}
        )
        order.payment_reminded_at = now
        order.save(update_fields=["payment_reminded_at", "updated_at"])
    return True
