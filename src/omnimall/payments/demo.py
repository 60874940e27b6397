"""Demo data only: an order's payments moved to when the demo history says they happened.

``orders.demo`` pays its history's orders through the sandbox bank and the real
settlement path, then dates them back; the rows here are this app's (``core.demo``).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from omnimall.core.demo import TimeMap
from omnimall.core.models import OutboxKind, OutboxMessage, OutboxState
from omnimall.payments.models import (
    EntryKind,
    NotificationLog,
    NotificationOutcome,
    Payment,
    PaymentEntry,
    Refund,
    SandboxRefund,
    SandboxTrade,
)


def backdate_payments_of_order(*, order_id: int, timeline: TimeMap) -> None:
    """The order's payments, ledger entries, refunds and notifications (received, and the
    bank's queued copies), and the sandbox bank's books of them too: its settlement file
    for a past day then lists that day's payments, as ``reconcile_payments`` expects."""
    payments = Payment.objects.filter(order_id=order_id)
    trades = list(payments.values_list("out_trade_no", flat=True))
    _paid_at_by_capture(payments, timeline)
    timeline.shift(payments, "created_at", "updated_at")
    timeline.shift(PaymentEntry.objects.filter(payment__order_id=order_id), "created_at")
    timeline.shift(Refund.objects.filter(payment__order_id=order_id), "created_at")
    timeline.shift(NotificationLog.objects.filter(out_trade_no__in=trades), "received_at")
    timeline.shift(SandboxTrade.objects.filter(out_trade_no__in=trades), "created_at", "paid_at")
    timeline.shift(SandboxRefund.objects.filter(trade__out_trade_no__in=trades), "created_at")
    _notifications_delivered_when_settled(trades)


def _notifications_delivered_when_settled(trades: list[str]) -> None:
    """No server runs while the history loads: the writer settles each of the bank's
    notifications in-process, as the notify endpoint settles it. That settlement was the
    notification's delivery, so the bank's queued copy is recorded delivered then (the
    accepted log entry's time), not POSTed when the demo starts serving, to be logged as a
    duplicate for every order of the history."""
    settled = NotificationLog.objects.filter(
        out_trade_no__in=trades, outcome=NotificationOutcome.ACCEPTED
    )
    for out_trade_no, status, at in settled.values_list(
        "out_trade_no", "trade_status", "received_at"
    ):
        OutboxMessage.objects.filter(
            kind=OutboxKind.GATEWAY_NOTIFICATION,
            state=OutboxState.PENDING,
            payload__params__out_trade_no=out_trade_no,
            payload__params__trade_status=status,
        ).update(
            state=OutboxState.DELIVERED,
            attempts=1,
            next_attempt_at=None,
            created_at=at,
            delivered_at=at,
        )


def _paid_at_by_capture(payments: QuerySet[Payment], timeline: TimeMap) -> None:
    """``paid_at`` is the gateway's payment time, in whole seconds: it can fall a fraction
    of a second before the step that recorded it began, where ``shift`` would leave it
    unmoved (a history order "paid" at load time). The capture's ledger entry was written
    in that step, to the microsecond: its moment, to the second, is the payment's."""
    captured: dict[int, datetime] = {}
    entries = PaymentEntry.objects.filter(payment__in=payments, kind=EntryKind.CAPTURE)
    for payment_id, at in entries.order_by("created_at").values_list("payment_id", "created_at"):
        captured.setdefault(payment_id, at)  # the first capture: when it was paid
    for payment_id, at in captured.items():
        moment = timeline.moment(at).replace(microsecond=0)
        Payment.objects.filter(pk=payment_id, paid_at__isnull=False).update(paid_at=moment)
