"""Asynchronous payment notifications: verify, then record each one exactly once.

``record_notification`` runs inside the caller's transaction (the orders app marks the
order paid in the same one) and never raises for bad input. Checks, in order:

1. shape (``malformed``): required parameters, lengths, amount format, known status;
2. the signature (``bad_signature``) — before anything in the body is believed;
3. merchant ids (``wrong_merchant``), our trade number (``unknown_payment``), amount
   (``wrong_amount``) and currency (``wrong_currency``) against the payment, and the
   gateway's trade number against one already recorded (``trade_mismatch``);
4. the trade status: TRADE_SUCCESS / TRADE_FINISHED post one capture (a repeat is a
   ``duplicate``); WAIT_BUYER_PAY is ignored; TRADE_CLOSED fails a pending payment and is
   ignored after a capture (out of order).

Every call writes one ``NotificationLog`` row (without the signature); rejected ones are
the staff queue and are logged to the ``omnimall.payments`` logger.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from omnimall.core import sql
from omnimall.payments import domain
from omnimall.payments.errors import UnknownGatewayError
from omnimall.payments.gateways import Gateway, get_gateway
from omnimall.payments.models import NotificationLog, NotificationOutcome, Payment, PaymentState

from .ledger import CLOSED_STATES, close_pending, lock_payment, post_capture

logger = logging.getLogger("omnimall.payments")

ACCEPTED = NotificationOutcome.ACCEPTED.value
DUPLICATE = NotificationOutcome.DUPLICATE.value
IGNORED = NotificationOutcome.IGNORED.value
REJECTED = NotificationOutcome.REJECTED.value


@dataclass(frozen=True, slots=True)
class NotificationResult:
    outcome: str  # accepted, duplicate, ignored, rejected
    reason: str = ""
    payment_id: int | None = None
    order_id: int | None = None
    newly_captured: bool = False
    trade_status: str = ""
    amount: Decimal | None = None  # the amount captured, when newly_captured
    detail: str = ""  # what exactly was wrong (for the log; never the signature)


def _plain(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """A plain dict of the parameters; None when a key repeats or the input is unusable."""
    try:
        lists = getattr(params, "lists", None)
        if lists is None:
            return dict(params.items())
        plain: dict[str, Any] = {}
        for key, values in lists():
            if len(values) != 1:
                return None
            plain[key] = values[0]
    except (AttributeError, TypeError, ValueError):
        return None
    return plain


def _rejected(reason: str, detail: str = "", payment: Payment | None = None) -> NotificationResult:
    return NotificationResult(
        outcome=REJECTED,
        reason=reason,
        detail=detail,
        payment_id=payment.pk if payment else None,
        order_id=payment.order_id if payment else None,
    )


def _paid_at(text: str) -> datetime | None:
    try:
        moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 - made aware below
    except ValueError:
        return None
    return timezone.make_aware(moment)


def _about(payment: Payment, outcome: str, reason: str, **extra: Any) -> NotificationResult:
    return NotificationResult(
        outcome=outcome, reason=reason, payment_id=payment.pk, order_id=payment.order_id, **extra
    )


def _apply_status(
    payment: Payment, notice: domain.Notification, gateway: str
) -> NotificationResult:
    status = notice.trade_status
    if status in domain.PAID_STATUSES:
        posted = post_capture(
            payment,
            trade_no=notice.trade_no,
            paid_at=_paid_at(notice.gmt_payment),
            actor_label=f"gateway:{gateway}",
        )
        if not posted:
            return _about(payment, DUPLICATE, "already_captured")
        return _about(payment, ACCEPTED, "captured", newly_captured=True, amount=payment.amount)
    if status == domain.TRADE_CLOSED:
        if payment.state == PaymentState.PAID:
            return _about(payment, IGNORED, "closed_after_capture")
        if payment.state in CLOSED_STATES:
            return _about(payment, DUPLICATE, "already_closed")
        close_pending(payment, state=PaymentState.FAILED)
        return _about(payment, ACCEPTED, "closed")
    return _about(payment, IGNORED, "waiting")


def _check_payment(
    gw: Gateway, params: dict[str, Any], notice: domain.Notification
) -> NotificationResult | Payment:
    if not gw.verify_notification(params):
        return _rejected("bad_signature")
    for key, expected in gw.merchant_params().items():
        if expected and params.get(key, "") != expected:
            return _rejected("wrong_merchant", f"{key}={str(params.get(key, ''))[:40]}")
    payment = lock_payment(gateway=gw.code, out_trade_no=notice.out_trade_no)
    if payment is None:
        return _rejected("unknown_payment")
    if notice.total_amount != payment.amount:
        return _rejected("wrong_amount", f"{notice.total_amount} != {payment.amount}", payment)
    if notice.currency != payment.currency:
        return _rejected("wrong_currency", f"{notice.currency} != {payment.currency}", payment)
    if payment.trade_no and payment.trade_no != notice.trade_no:
        return _rejected("trade_mismatch", f"trade_no {notice.trade_no}", payment)
    return payment


def _process(gateway: str, params: dict[str, Any] | None) -> NotificationResult:
    if params is None:
        return _rejected("malformed", "repeated or unreadable parameters")
    try:
        notice = domain.parse_notification(params)
    except domain.MalformedNotificationError as exc:
        return _rejected("malformed", str(exc))
    try:
        gw = get_gateway(gateway)
    except UnknownGatewayError:
        return _rejected("unknown_gateway")
    checked = _check_payment(gw, params, notice)
    if isinstance(checked, NotificationResult):
        result = checked
    else:
        result = _apply_status(checked, notice, gw.code)
    return dataclasses.replace(result, trade_status=notice.trade_status)


def _address(remote_addr: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((remote_addr or "").strip()))
    except ValueError:
        return None


def _write_log(
    gateway: str, params: Mapping[str, Any] | None, result: NotificationResult, addr: str | None
) -> None:
    kept = domain.loggable_params(params or {})
    reason = f"{result.reason}: {result.detail}" if result.detail else result.reason
    # One row per notification: inserted by hand (hot path), as ``objects.create`` would.
    sql.insert(
        [
            NotificationLog(
                gateway=str(gateway)[:30],
                outcome=result.outcome,
                reason=reason[:80],
                out_trade_no=kept.get("out_trade_no", "")[:64],
                trade_status=kept.get("trade_status", "")[:40],
                params=kept,
                remote_addr=addr,
            )
        ],
    )


def record_notification(
    *, gateway: str, params: Mapping[str, str], remote_addr: str | None
) -> NotificationResult:
    """Verify and record one asynchronous notification (see the module docstring).

    Runs in the caller's transaction (its own when there is none); never raises for bad
    input. No savepoint: nothing here raises on purpose, and an unexpected error must roll
    the caller's whole transaction back anyway (no caller carries on after one).
    """
    plain = _plain(params)
    addr = _address(remote_addr)
    with transaction.atomic(savepoint=False):
        result = _process(gateway, plain)
        _write_log(gateway, plain, result, addr)
    if result.outcome == REJECTED:
        logger.warning(
            "payment notification rejected: gateway=%r reason=%s detail=%r out_trade_no=%r from=%s",
            str(gateway)[:30],
            result.reason,
            result.detail,
            str((plain or {}).get("out_trade_no", ""))[:64],
            addr,
        )
    return result
