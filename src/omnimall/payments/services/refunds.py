"""Refunds through the gateway, recorded in the payments ledger.

``refund_payment`` works in three steps so that no network call happens under the
payment's row lock when the caller has no transaction of its own:

1. *reserve*: lock the order's paid payments (by primary key), check the amount against
   captured − refunded − refunds in progress, and write ``Refund(state=requested)``
   under the unique ``refund_no`` (a replay or a racing twin stops here);
2. ask the gateway (``Gateway.refund``, idempotent on ``refund_no`` like Alipay's
   ``out_request_no``);
3. *confirm*: a negative ``refund`` ledger entry, ``amount_refunded`` and the refund's
   state in one transaction, audited — or, when the gateway refused,
   ``Refund(state=failed)`` and ``RefundFailedError``.

Called inside the caller's transaction (the orders app locks the order first), the three
steps are savepoints of it; a failure then rolls back with the caller unless it commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.core.money import quantize
from omnimall.payments.errors import (
    GatewayError,
    InvalidRefundError,
    NothingToRefundError,
    RefundExceedsCapturedError,
    RefundFailedError,
    RefundInProgressError,
    RefundNumberReusedError,
)
from omnimall.payments.gateways import get_gateway
from omnimall.payments.models import (
    EntryKind,
    Payment,
    PaymentEntry,
    PaymentState,
    Refund,
    RefundState,
)

from .ledger import refundable

_REFUND_NO = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


@dataclass(frozen=True, slots=True)
class RefundResult:
    refund_id: int
    refund_no: str
    payment_id: int
    amount: Decimal
    succeeded: bool
    replayed: bool = False


def _result(refund: Refund, *, replayed: bool) -> RefundResult:
    return RefundResult(
        refund_id=refund.pk,
        refund_no=refund.refund_no,
        payment_id=refund.payment_id,
        amount=refund.amount,
        succeeded=refund.state == RefundState.SUCCEEDED,
        replayed=replayed,
    )


def _replay(*, refund_no: str, order_id: int, amount: Decimal) -> RefundResult | None:
    """The first result for ``refund_no``, if there was one."""
    refund = Refund.objects.select_related("payment").filter(refund_no=refund_no).first()
    if refund is None:
        return None
    if refund.payment.order_id != order_id or refund.amount != amount:
        raise RefundNumberReusedError(refund_no=refund_no)
    if refund.state == RefundState.FAILED:
        raise RefundFailedError(refund_no=refund_no, failure=refund.failure)
    if refund.state == RefundState.REQUESTED:
        raise RefundInProgressError(refund_no=refund_no)
    return _result(refund, replayed=True)


def _pick_payment(order_id: int, amount: Decimal) -> Payment:
    """The oldest paid payment of the order that covers ``amount``, locked."""
    payments = list(
        Payment.objects.select_for_update()
        .filter(order_id=order_id, state=PaymentState.PAID)
        .order_by("pk")
    )
    if not payments:
        raise NothingToRefundError(order_id=order_id)
    pending = dict(
        Refund.objects.filter(payment__in=payments, state=RefundState.REQUESTED)
        .values("payment_id")
        .annotate(total=Sum("amount"))
        .values_list("payment_id", "total")
    )
    left = {p.pk: refundable(p, pending=pending.get(p.pk) or Decimal("0.00")) for p in payments}
    total = sum(left.values(), Decimal("0.00"))
    if amount > total:
        raise RefundExceedsCapturedError(refundable=str(total), amount=str(amount))
    for payment in payments:
        if left[payment.pk] >= amount:
            return payment
    raise RefundExceedsCapturedError(
        "No single payment of the order covers this amount; refund it in parts.",
        refundable_per_payment={p.out_trade_no: str(left[p.pk]) for p in payments},
        amount=str(amount),
    )


def _reserve(
    *, order_id: int, amount: Decimal, reason: str, refund_no: str
) -> Refund | RefundResult:
    with transaction.atomic():
        payment = _pick_payment(order_id, amount)
        try:
            with transaction.atomic():
                return Refund.objects.create(
                    payment=payment, refund_no=refund_no, amount=amount, reason=reason[:200]
                )
        except IntegrityError:
            pass  # a concurrent call with the same refund_no got there first
    replay = _replay(refund_no=refund_no, order_id=order_id, amount=amount)
    if replay is None:  # pragma: no cover - the unique refund_no exists by now
        raise RefundInProgressError(refund_no=refund_no)
    return replay


def _confirm(refund: Refund, *, actor: Actor) -> RefundResult:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        PaymentEntry.objects.create(
            payment=payment,
            kind=EntryKind.REFUND,
            amount=-refund.amount,
            document=refund.refund_no,
            actor_label=actor.label[:150],
        )
        matched = Payment.objects.filter(
            pk=payment.pk, amount_captured__gte=F("amount_refunded") + refund.amount
        ).update(amount_refunded=F("amount_refunded") + refund.amount)
        if not matched:  # pragma: no cover - the reservation step checked it under lock
            raise RefundExceedsCapturedError(refund_no=refund.refund_no)
        Refund.objects.filter(pk=refund.pk).update(state=RefundState.SUCCEEDED)
        refund.state = RefundState.SUCCEEDED
        audit.record(
            actor=actor,
            action="payment.refunded",
            subject=refund,
            changes={
                "amount_refunded": [
                    str(payment.amount_refunded),
                    str(payment.amount_refunded + refund.amount),
                ],
                "out_trade_no": payment.out_trade_no,
            },
            reason=refund.reason,
        )
    return _result(refund, replayed=False)


def _fail(refund: Refund, *, actor: Actor, failure: str) -> None:
    with transaction.atomic():
        Refund.objects.filter(pk=refund.pk).update(state=RefundState.FAILED, failure=failure)
        audit.record(
            actor=actor,
            action="payment.refund_failed",
            subject=refund,
            changes={"failure": failure},
            reason=refund.reason,
        )


def refund_payment(
    *, order_id: int, amount: Decimal, reason: str, refund_no: str, actor: Actor
) -> RefundResult:
    """Refund ``amount`` of the order's captured payments through their gateway.

    Idempotent on ``refund_no``: the same number replays the first result (a failed one
    raises its failure again); the same number for another order or amount is refused.
    """
    if not isinstance(amount, Decimal) or amount <= 0 or quantize(amount) != amount:
        raise InvalidRefundError(amount=str(amount))
    if not _REFUND_NO.match(refund_no or ""):
        raise InvalidRefundError("A refund number is 1-64 letters, digits, '-' or '_'.")
    replay = _replay(refund_no=refund_no, order_id=order_id, amount=amount)
    if replay is not None:
        return replay
    reserved = _reserve(order_id=order_id, amount=amount, reason=reason, refund_no=refund_no)
    if isinstance(reserved, RefundResult):
        return reserved
    payment = reserved.payment
    try:
        get_gateway(payment.gateway).refund(
            out_trade_no=payment.out_trade_no,
            trade_no=payment.trade_no,
            refund_no=refund_no,
            amount=amount,
            reason=reason,
        )
    except GatewayError as exc:
        failure = str(exc)[:200] or type(exc).__name__
        _fail(reserved, actor=actor, failure=failure)
        raise RefundFailedError(refund_no=refund_no, failure=failure) from exc
    return _confirm(reserved, actor=actor)
