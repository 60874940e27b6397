"""Order background work. Thin: each task calls one service."""

from __future__ import annotations

from celery import shared_task

from omnimall.core import wakeups
from omnimall.orders.services import (
    cancellation,
    completion,
    fulfilment,
    payment,
    payment_reminders,
    pickup_reminders,
    receipt,
)


@shared_task(name=payment.ALLOCATE_TASK, ignore_result=True)  # no result backend reads it
def allocate_paid_orders_task() -> int:
    """Paid orders waiting for their allocation become fulfilment requests (woken after
    payments commit: ``core.wakeups``). Returns how many moved on."""
    wakeups.woken(payment.ALLOCATE_TASK)
    return fulfilment.allocate_paid_orders()


@shared_task(name="orders.expire_unpaid_orders")
def expire_unpaid_orders_task() -> int:
    """Unpaid orders past their hold: asked at the gateway, then cancelled (every minute).

    Also the safety net for paid orders whose allocation never ran."""
    fulfilment.allocate_stuck_orders()
    return cancellation.expire_unpaid_orders()


@shared_task(name="orders.remind_unpaid_orders")
def remind_unpaid_orders_task() -> int:
    """Unpaid orders PAYMENT_REMINDER_MINUTES before their hold ends: the shopper reminded
    once (every minute)."""
    return payment_reminders.remind_unpaid_orders()


@shared_task(name="orders.cancel_uncollected_pickups")
def cancel_uncollected_pickups_task() -> int:
    """Pick-ups not collected in PICKUP_UNCOLLECTED_DAYS: cancelled and refunded (hourly)."""
    return cancellation.cancel_uncollected_pickups()


@shared_task(name="orders.remind_uncollected_pickups")
def remind_uncollected_pickups_task() -> int:
    """Pick-ups PICKUP_REMINDER_DAYS from their cancellation: the shopper reminded once
    (hourly)."""
    return pickup_reminders.remind_uncollected_pickups()


@shared_task(name="orders.confirm_overdue_deliveries")
def confirm_overdue_deliveries_task() -> int:
    """Shipped orders DELIVERY_CONFIRM_DAYS after shipping: confirmed delivered (hourly)."""
    return receipt.confirm_overdue_deliveries()


@shared_task(name="orders.complete_orders")
def complete_orders_task() -> int:
    """Delivered or picked-up orders past the return window become completed (hourly)."""
    return completion.complete_orders()
