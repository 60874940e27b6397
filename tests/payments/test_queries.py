"""Asking the gateway: a capture whose notification never came; closing unpaid payments."""

from __future__ import annotations

import pytest

from omnimall.core.models import AuditEntry
from omnimall.payments import selectors
from omnimall.payments import services as payments
from omnimall.payments.gateways import sandbox
from omnimall.payments.models import Payment, PaymentEntry, SandboxTrade
from tests.payments.factories import (
    assert_ledger_matches_cache,
    gateway_pays,
    notify,
    start_payment,
)

pytestmark = pytest.mark.django_db


def test_capture_from_query_records_the_capture_when_the_notification_never_came():
    started = start_payment(amount="45.50")
    gateway_pays(started.out_trade_no)

    first = payments.capture_from_query(payment_id=started.payment_id)
    second = payments.capture_from_query(payment_id=started.payment_id)

    assert (first, second) == (True, False)
    payment = Payment.objects.get(pk=started.payment_id)
    assert payment.state == "paid"
    assert payment.trade_no == started.trade_no
    assert PaymentEntry.objects.get().document == started.trade_no
    assert AuditEntry.objects.filter(action="payment.captured_by_query").count() == 1
    late = notify(sandbox.notification_for(started.out_trade_no))
    assert (late.outcome, late.newly_captured) == ("duplicate", False)
    assert_ledger_matches_cache()


def test_capture_from_query_records_nothing_while_the_shopper_has_not_paid():
    started = start_payment()

    assert payments.capture_from_query(payment_id=started.payment_id) is False
    assert Payment.objects.get(pk=started.payment_id).state == "pending"


def test_capture_from_query_records_nothing_when_the_gateway_amount_differs():
    started = start_payment(amount="45.50")
    gateway_pays(started.out_trade_no)
    SandboxTrade.objects.update(total_amount="0.01")

    assert payments.capture_from_query(payment_id=started.payment_id) is False
    assert not PaymentEntry.objects.exists()


def test_capture_from_query_fails_the_payment_when_the_gateway_closed_the_trade():
    started = start_payment()
    SandboxTrade.objects.update(status="TRADE_CLOSED")

    assert payments.capture_from_query(payment_id=started.payment_id) is False
    assert Payment.objects.get(pk=started.payment_id).state == "failed"


def test_close_payment_closes_the_trade_and_cancels_the_payment_when_unpaid():
    started = start_payment()

    closed = payments.close_payment(payment_id=started.payment_id)

    assert closed is True
    assert Payment.objects.get(pk=started.payment_id).state == "cancelled"
    assert SandboxTrade.objects.get().status == "TRADE_CLOSED"
    assert payments.close_payment(payment_id=started.payment_id) is True
    assert selectors.list_pending_payment_ids(Payment.objects.get().order_id) == []


def test_close_payment_refuses_when_the_gateway_says_it_is_paid():
    started = start_payment()
    gateway_pays(started.out_trade_no)

    closed = payments.close_payment(payment_id=started.payment_id)

    assert closed is False
    assert Payment.objects.get(pk=started.payment_id).state == "pending"
    assert SandboxTrade.objects.get().status == "TRADE_SUCCESS"
    assert payments.capture_from_query(payment_id=started.payment_id) is True


def test_start_payment_gives_each_attempt_its_own_unguessable_trade_number():
    first = start_payment(amount="10.00")
    order = Payment.objects.get(pk=first.payment_id).order

    second = start_payment(order=order, amount="10.00")

    assert first.out_trade_no != second.out_trade_no
    assert first.out_trade_no.startswith(f"{order.pk}-")
    assert len(first.out_trade_no.split("-")[1]) == 12
    assert first.payment_url == f"/payments/sandbox/pay/{first.trade_no}/"
    views = selectors.list_payments_of_order(order.pk)
    assert [v.out_trade_no for v in views] == [first.out_trade_no, second.out_trade_no]


@pytest.mark.parametrize("amount", ["0", "-1", "1.005"])
def test_start_payment_refuses_an_amount_that_is_not_positive_cents(amount):
    from decimal import Decimal

    from omnimall.payments.errors import InvalidPaymentAmountError
    from tests.payments.factories import NOTIFY_URL, make_order

    order = make_order()

    with pytest.raises(InvalidPaymentAmountError):
        payments.start_payment(
            order_id=order.pk,
            amount=Decimal(amount),
            currency="CNY",
            subject="x",
            notify_url=NOTIFY_URL,
            return_url="/",
        )
    assert not Payment.objects.exists()


def test_selectors_read_an_orders_ledger_in_one_query_each(django_assert_num_queries):
    from tests.payments.factories import paid_payment

    payment = paid_payment("20.00")

    with django_assert_num_queries(1):
        lines = selectors.ledger_of_order(payment.order_id)
    with django_assert_num_queries(1):
        views = selectors.list_payments_of_order(payment.order_id)

    assert [(line.kind, line.amount) for line in lines] == [("capture", payment.amount)]
    assert views[0].refundable == payment.amount
