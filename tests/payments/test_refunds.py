"""Refunds through the sandbox gateway: full, partial, over-refund, idempotent replay."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnimall.core.models import AuditEntry
from omnimall.payments import selectors
from omnimall.payments import services as payments
from omnimall.payments.errors import (
    InvalidRefundError,
    NothingToRefundError,
    RefundExceedsCapturedError,
    RefundFailedError,
    RefundNumberReusedError,
)
from omnimall.payments.models import Payment, PaymentEntry, Refund, SandboxRefund, SandboxTrade
from tests.payments.factories import STAFF, assert_ledger_matches_cache, paid_payment, start_payment

pytestmark = pytest.mark.django_db


def refund(payment, amount, refund_no, reason="customer asked"):
    return payments.refund_payment(
        order_id=payment.order_id,
        amount=Decimal(amount),
        reason=reason,
        refund_no=refund_no,
        actor=STAFF,
    )


def test_refund_payment_refunds_in_full_through_the_gateway_and_the_ledger():
    payment = paid_payment("100.00")

    result = refund(payment, "100.00", "R-1")

    payment.refresh_from_db()
    assert result.succeeded
    assert not result.replayed
    assert result.amount == Decimal("100.00")
    assert payment.amount_refunded == Decimal("100.00")
    entry = PaymentEntry.objects.get(kind="refund")
    assert (entry.amount, entry.document, entry.actor_label) == (
        Decimal("-100.00"),
        "R-1",
        "refund-desk",
    )
    stored = Refund.objects.get(pk=result.refund_id)
    assert (stored.state, stored.reason) == ("succeeded", "customer asked")
    assert SandboxRefund.objects.get().amount == Decimal("100.00")
    assert SandboxTrade.objects.get().refunded_amount == Decimal("100.00")
    audit = AuditEntry.objects.get(action="payment.refunded")
    assert audit.actor_label == "refund-desk"
    assert audit.reason == "customer asked"
    assert_ledger_matches_cache()


def test_refund_payment_refunds_in_parts_until_the_capture_is_used_up():
    payment = paid_payment("100.00")

    refund(payment, "30.00", "R-a")
    refund(payment, "70.00", "R-b")

    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("100.00")
    assert selectors.refundable_of_order(payment.order_id) == Decimal("0.00")
    assert [line.amount for line in selectors.ledger_of_order(payment.order_id)] == [
        Decimal("100.00"),
        Decimal("-30.00"),
        Decimal("-70.00"),
    ]
    with pytest.raises(RefundExceedsCapturedError) as refused:
        refund(payment, "0.01", "R-c")
    assert refused.value.code == "refund_exceeds_captured"
    assert refused.value.status == 409
    assert_ledger_matches_cache()


def test_refund_payment_refuses_more_than_captured_minus_refunded():
    payment = paid_payment("100.00")
    refund(payment, "40.00", "R-1")

    with pytest.raises(RefundExceedsCapturedError) as refused:
        refund(payment, "60.01", "R-2")

    assert refused.value.details["refundable"] == "60.00"
    assert Refund.objects.count() == 1
    assert PaymentEntry.objects.filter(kind="refund").count() == 1
    assert SandboxRefund.objects.count() == 1


def test_refund_payment_replays_the_first_result_when_the_refund_no_repeats():
    payment = paid_payment("100.00")
    first = refund(payment, "25.00", "R-same")

    again = refund(payment, "25.00", "R-same")

    assert again.replayed
    assert (again.refund_id, again.amount, again.succeeded) == (first.refund_id, first.amount, True)
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("25.00")
    assert PaymentEntry.objects.filter(kind="refund").count() == 1
    assert SandboxRefund.objects.count() == 1


def test_refund_payment_refuses_a_refund_no_reused_for_another_amount():
    payment = paid_payment("100.00")
    refund(payment, "25.00", "R-same")

    with pytest.raises(RefundNumberReusedError):
        refund(payment, "26.00", "R-same")


@pytest.mark.parametrize("amount", ["0", "-5.00", "1.001"])
def test_refund_payment_refuses_when_the_amount_is_not_positive_cents(amount):
    payment = paid_payment("100.00")

    with pytest.raises(InvalidRefundError):
        refund(payment, amount, "R-x")

    assert not Refund.objects.exists()


def test_refund_payment_refuses_when_nothing_was_captured():
    started = start_payment()
    payment = Payment.objects.get(pk=started.payment_id)

    with pytest.raises(NothingToRefundError):
        refund(payment, "1.00", "R-x")


def test_refund_payment_records_a_failed_refund_when_the_gateway_refuses():
    payment = paid_payment("100.00")
    # The bank's books say the trade was already refunded in full elsewhere.
    SandboxTrade.objects.update(refunded_amount=Decimal("100.00"))

    with pytest.raises(RefundFailedError) as refused:
        refund(payment, "10.00", "R-fail")

    stored = Refund.objects.get(refund_no="R-fail")
    assert stored.state == "failed"
    assert stored.failure
    assert refused.value.details["failure"] == stored.failure
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("0.00")
    assert not PaymentEntry.objects.filter(kind="refund").exists()
    assert AuditEntry.objects.filter(action="payment.refund_failed").exists()
    with pytest.raises(RefundFailedError):  # the replay answers the same
        refund(payment, "10.00", "R-fail")
    # A refund in progress or failed does not use up the capture: a new number works once
    # the bank agrees again.
    SandboxTrade.objects.update(refunded_amount=Decimal("0.00"))
    assert refund(payment, "10.00", "R-next").succeeded
