"""Demo data only: an order's payments moved to when the demo history says they happened.

``orders.demo`` pays its history's orders through the sandbox bank and the real
settlement path, then dates them back; the rows here are this app's (``core.demo``).
"""

from __future__ import annotations

from omnimall.core.demo import TimeMap
from omnimall.payments.models import (
    NotificationLog,
    Payment,
    PaymentEntry,
    Refund,
    SandboxRefund,
    SandboxTrade,
)


def backdate_payments_of_order(*, order_id: int, timeline: TimeMap) -> None:
    """The order's payments, ledger entries, refunds and notifications, and the sandbox
    bank's books of them too: its settlement file for a past day then lists that day's
    payments, as ``reconcile_payments`` expects."""
    payments = Payment.objects.filter(order_id=order_id)
    trades = list(payments.values_list("out_trade_no", flat=True))
    timeline.shift(payments, "created_at", "paid_at", "updated_at")
    timeline.shift(PaymentEntry.objects.filter(payment__order_id=order_id), "created_at")
    timeline.shift(Refund.objects.filter(payment__order_id=order_id), "created_at")
    timeline.shift(NotificationLog.objects.filter(out_trade_no__in=trades), "received_at")
    timeline.shift(SandboxTrade.objects.filter(out_trade_no__in=trades), "created_at", "paid_at")
    timeline.shift(SandboxRefund.objects.filter(trade__out_trade_no__in=trades), "created_at")
