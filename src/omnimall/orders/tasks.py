"""Order background work. Thin: each task calls one service."""

from __future__ import annotations

from celery import shared_task

from omnimall.orders.services import cancellation, completion, fulfilment, payment


@shared_task(name="orders.allocate_order", ignore_result=True)  # no result backend reads it
def allocate_order_task(order_id: int, message_ids: list[int] | None = None) -> None:
    """A paid order's holds become fulfilment requests (queued after payment commits);
    then the payment's outbox messages (``message_ids``: the paid email, webhooks) are
    delivered, whether or not the allocation went through."""
    try:
        fulfilment.allocate_order(order_id=int(order_id))
    finally:
        payment.deliver_messages([int(pk) for pk in message_ids or ()])


@shared_task(name="orders.expire_unpaid_orders")
def expire_unpaid_orders_task() -> int:
    """Unpaid orders past their hold: asked at the gateway, then cancelled (every minute).

    Also the safety net for paid orders whose allocation never ran."""
    fulfilment.allocate_stuck_orders()
    return cancellation.expire_unpaid_orders()


@shared_task(name="orders.cancel_uncollected_pickups")
def cancel_uncollected_pickups_task() -> int:
    """Pick-ups not collected in PICKUP_UNCOLLECTED_DAYS: cancelled and refunded (hourly)."""
    return cancellation.cancel_uncollected_pickups()


@shared_task(name="orders.complete_orders")
def complete_orders_task() -> int:
    """Delivered or picked-up orders past the return window become completed (hourly)."""
    return completion.complete_orders()
