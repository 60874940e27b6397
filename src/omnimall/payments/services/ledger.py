"""Building blocks shared by the payment services: post a capture, close a payment.

Call them inside a transaction with the payment row locked (``lock_payment``): the
ledger entry and the cached totals change together, so ``amount_captured`` and
``amount_refunded`` always equal the sums of the payment's entries.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from omnimall.core import clock
from omnimall.payments.models import EntryKind, Payment, PaymentEntry, PaymentState

CLOSED_STATES = (PaymentState.FAILED, PaymentState.CANCELLED)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("payments ledger writes need a transaction")


def lock_payment(**lookup: object) -> Payment | None:
    """The payment matching ``lookup``, its row locked for this transaction."""
    _require_transaction()
    return Payment.objects.select_for_update().filter(**lookup).first()


def post_capture(
    payment: Payment, *, trade_no: str, paid_at: datetime | None, actor_label: str
) -> bool:
    """Record that the gateway captured ``payment.amount`` as trade ``trade_no``.

    False when it was already recorded (the payment is paid, or the unique ledger
    constraint refuses the same document twice). A payment closed on our side that the
    gateway nevertheless reports paid is captured too: the money moved, so the ledger
    must say so (the order then needs a refund or a second look).
    """
    _require_transaction()
    if payment.state == PaymentState.PAID:
        return False
    try:
        with transaction.atomic():
            PaymentEntry.objects.create(
                payment=payment,
                kind=EntryKind.CAPTURE,
                amount=payment.amount,
                document=trade_no,
                actor_label=actor_label[:150],
            )
    except IntegrityError:
        return False
    when = paid_at or clock.now()
    Payment.objects.filter(pk=payment.pk).update(
        state=PaymentState.PAID,
        trade_no=trade_no,
        amount_captured=F("amount_captured") + payment.amount,
        paid_at=when,
        updated_at=clock.now(),
    )
    payment.state, payment.trade_no, payment.paid_at = PaymentState.PAID, trade_no, when
    payment.amount_captured = payment.amount_captured + payment.amount
    return True


def close_pending(payment: Payment, *, state: str) -> bool:
    """Mark a pending payment failed (declined) or cancelled (closed by us); True if it was
    pending."""
    _require_transaction()
    matched = Payment.objects.filter(pk=payment.pk, state=PaymentState.PENDING).update(
        state=state, updated_at=clock.now()
    )
    if matched:
        payment.state = state
    return bool(matched)


def refundable(payment: Payment, *, pending: Decimal = Decimal("0.00")) -> Decimal:
    """What may still be refunded from ``payment``, less refunds being processed."""
    if payment.state != PaymentState.PAID:
        return Decimal("0.00")
    return payment.amount_captured - payment.amount_refunded - pending
