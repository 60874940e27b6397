"""Starting a payment, closing an unpaid one, and asking the gateway about one.

``start_payment`` runs inside the caller's transaction (order placement); the gateway's
``start_payment`` is local for page-pay gateways (it builds the page address), so no
network call happens under the caller's locks. ``capture_from_query`` and
``close_payment`` ask the gateway first, without locks, then record the answer.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from omnimall.core import audit, sql
from omnimall.core.actors import Actor
from omnimall.core.money import quantize
from omnimall.payments import domain
from omnimall.payments.errors import InvalidPaymentAmountError, PaymentNotFoundError
from omnimall.payments.gateways import get_gateway
from omnimall.payments.models import Payment, PaymentState

from .ledger import CLOSED_STATES, close_pending, lock_payment, post_capture

logger = logging.getLogger("omnimall.payments")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class StartedPayment:
    payment_id: int
    out_trade_no: str
    payment_url: str
    trade_no: str = ""


def new_out_trade_no(order_id: int) -> str:
    """Our trade number: the order id and 12 random hex digits (unique, not guessable)."""
    return f"{order_id}-{secrets.token_hex(6)}"


def start_payment(
    *,
    order_id: int,
    amount: Decimal,
    currency: str,
    subject: str,
    notify_url: str,
    return_url: str,
    gateway: str = "sandbox",
) -> StartedPayment:
    """Open a payment of ``amount`` for the order at ``gateway``; the shopper goes to
    ``payment_url``. Runs in the caller's transaction."""
    if not isinstance(amount, Decimal) or amount <= 0 or quantize(amount) != amount:
        raise InvalidPaymentAmountError(amount=str(amount))
    if not _CURRENCY.match(currency):
        raise InvalidPaymentAmountError("Unknown currency.", currency=str(currency)[:10])
    gw = get_gateway(gateway)
    out_trade_no = new_out_trade_no(order_id)
    # No savepoint: nothing below is refused (the amount and currency were checked), and
    # an error here must roll the caller's work back anyway (the trade and the payment
    # are written together or not at all).
    with transaction.atomic(savepoint=False):
        started = gw.start_payment(
            out_trade_no=out_trade_no,
            amount=amount,
            currency=currency,
            subject=subject,
            notify_url=notify_url,
            return_url=return_url,
        )
        payment = Payment(
            order_id=order_id,
            gateway=gw.code,
            out_trade_no=out_trade_no,
            trade_no=started.trade_no,
            amount=amount,
            currency=currency,
        )
        sql.insert([payment])  # hot path (every checkout): no queryset to compile
    return StartedPayment(
        payment_id=payment.pk,
        out_trade_no=out_trade_no,
        payment_url=started.payment_url,
        trade_no=started.trade_no,
    )


def _get(payment_id: int) -> Payment:
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise PaymentNotFoundError(payment_id=payment_id)
    return payment


def _lock(payment_id: int) -> Payment:
    locked = lock_payment(pk=payment_id)
    if locked is None:
        raise PaymentNotFoundError(payment_id=payment_id)
    return locked


def capture_from_query(*, payment_id: int) -> bool:
    """Ask the gateway about a payment whose notification never came; record a capture
    it reports (True when this call recorded it), or fail the payment if the gateway
    closed the trade. An answer that does not match the payment records nothing."""
    payment = _get(payment_id)
    if payment.state == PaymentState.PAID:
        return False
    status = get_gateway(payment.gateway).query_status(out_trade_no=payment.out_trade_no)
    if not status.found:
        return False
    with transaction.atomic():
        locked = _lock(payment_id)
        if status.trade_status == domain.TRADE_CLOSED:
            close_pending(locked, state=PaymentState.FAILED)
            return False
        if status.trade_status not in domain.PAID_STATUSES:
            return False
        problem = _query_mismatch(locked, status.total_amount, status.currency, status.trade_no)
        if problem:
            logger.warning(
                "status query of %s does not match the payment: %s", locked.out_trade_no, problem
            )
            return False
        captured = post_capture(
            locked, trade_no=status.trade_no, paid_at=status.paid_at, actor_label="status query"
        )
        if captured:
            audit.record(
                actor=Actor.system("payments.query"),
                action="payment.captured_by_query",
                subject=locked,
                changes={"state": [PaymentState.PENDING, PaymentState.PAID]},
            )
    return captured


def _query_mismatch(payment: Payment, amount: Decimal | None, currency: str, trade_no: str) -> str:
    if amount != payment.amount:
        return f"amount {amount} != {payment.amount}"
    if currency != payment.currency:
        return f"currency {currency} != {payment.currency}"
    if not trade_no or (payment.trade_no and trade_no != payment.trade_no):
        return f"trade_no {trade_no!r} != {payment.trade_no!r}"
    return ""


def close_payment(*, payment_id: int) -> bool:
    """Close an unpaid payment at the gateway and mark it cancelled.

    False when the gateway (or our ledger) says it is paid: then call
    ``capture_from_query`` to record the capture instead of cancelling the order.
    """
    payment = _get(payment_id)
    if payment.state == PaymentState.PAID:
        return False
    if payment.state in CLOSED_STATES:
        return True
    if not get_gateway(payment.gateway).close(out_trade_no=payment.out_trade_no):
        return False
    with transaction.atomic():
        locked = _lock(payment_id)
        close_pending(locked, state=PaymentState.CANCELLED)
        return locked.state != PaymentState.PAID


__all__ = [
    "StartedPayment",
    "capture_from_query",
    "close_payment",
    "start_payment",
]
