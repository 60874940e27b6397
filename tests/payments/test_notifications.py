"""Asynchronous notifications: each one verified, recorded once, bad ones change nothing."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.db import transaction
from django.http import QueryDict

from omnimall.payments.gateways import rsa2, sandbox
from omnimall.payments.models import NotificationLog, Payment, PaymentEntry
from tests.payments.factories import (
    assert_ledger_matches_cache,
    gateway_pays,
    notify,
    paid_payment,
    resign,
    start_payment,
)

pytestmark = pytest.mark.django_db


class RollbackError(Exception):
    pass


def _state():
    """Everything a notification could change, to compare before and after."""
    return (
        list(
            Payment.objects.order_by("pk").values_list(
                "pk", "state", "trade_no", "amount_captured", "amount_refunded", "paid_at"
            )
        ),
        list(PaymentEntry.objects.order_by("pk").values_list("pk", "amount", "document")),
    )


@pytest.fixture
def started():
    started = start_payment(amount="100.00")
    gateway_pays(started.out_trade_no)
    return started


def test_record_notification_captures_once_when_the_notification_is_genuine(started):
    params = sandbox.notification_for(started.out_trade_no)

    result = notify(params)

    payment = Payment.objects.get(pk=started.payment_id)
    assert (result.outcome, result.reason, result.newly_captured) == ("accepted", "captured", True)
    assert result.payment_id == payment.pk
    assert result.order_id == payment.order_id
    assert result.amount == Decimal("100.00")
    assert result.trade_status == "TRADE_SUCCESS"
    assert payment.state == "paid"
    assert payment.amount_captured == Decimal("100.00")
    assert payment.paid_at is not None
    entry = PaymentEntry.objects.get(payment=payment)
    assert (entry.kind, entry.amount, entry.document) == (
        "capture",
        Decimal("100.00"),
        payment.trade_no,
    )
    log = NotificationLog.objects.get()
    assert (log.outcome, log.out_trade_no, str(log.remote_addr)) == (
        "accepted",
        started.out_trade_no,
        "203.0.113.7",
    )
    assert "sign" not in log.params
    assert log.params["total_amount"] == "100.00"
    assert_ledger_matches_cache()


def _other_payment_params(started):
    other = start_payment(amount="100.00")
    gateway_pays(other.out_trade_no)
    genuine = sandbox.notification_for(started.out_trade_no)
    # An old genuine notification replayed with another order's trade number.
    return {**genuine, "out_trade_no": other.out_trade_no}


BAD = {
    "tampered amount": (lambda s, p, forger: {**p, "total_amount": "1.00"}, "bad_signature"),
    "forged signature": (
        lambda s, p, forger: {**p, "sign": rsa2.sign(p, rsa2.load_private_key(forger))},
        "bad_signature",
    ),
    "no signature check bypass by sign_type": (
        lambda s, p, forger: {**p, "sign_type": "RSA2", "sign": "AAAA"},
        "bad_signature",
    ),
    "replayed for another order": (lambda s, p, forger: _other_payment_params(s), "bad_signature"),
    "wrong amount (signed)": (lambda s, p, forger: resign(p, total_amount="10.00"), "wrong_amount"),
    "wrong currency (signed)": (
        lambda s, p, forger: resign(p, trans_currency="USD"),
        "wrong_currency",
    ),
    "wrong app id (signed)": (
        lambda s, p, forger: resign(p, app_id="2026000000000999"),
        "wrong_merchant",
    ),
    "wrong seller (signed)": (
        lambda s, p, forger: resign(p, seller_id="2088999999999999"),
        "wrong_merchant",
    ),
    "unknown payment (signed)": (
        lambda s, p, forger: resign(p, out_trade_no="999-ffffffffffff"),
        "unknown_payment",
    ),
    "unknown order (signed)": (
        lambda s, p, forger: resign(p, out_trade_no="nonexistent"),
        "unknown_payment",
    ),
    "trade number mismatch (signed)": (
        lambda s, p, forger: resign(p, trade_no="2026112722009999999999999999"),
        "trade_mismatch",
    ),
    "missing trade status": (
        lambda s, p, forger: {k: v for k, v in p.items() if k != "trade_status"},
        "malformed",
    ),
    "unknown trade status": (
        lambda s, p, forger: resign(p, trade_status="TRADE_PAID_MAYBE"),
        "malformed",
    ),
    "negative amount": (lambda s, p, forger: resign(p, total_amount="-100.00"), "malformed"),
    "amount with three decimals": (
        lambda s, p, forger: resign(p, total_amount="100.000"),
        "malformed",
    ),
    "amount as words": (lambda s, p, forger: {**p, "total_amount": "one hundred"}, "malformed"),
    "empty body": (lambda s, p, forger: {}, "malformed"),
    "not strings": (lambda s, p, forger: {**p, "total_amount": 100}, "malformed"),
    "huge value": (lambda s, p, forger: {**p, "subject": "x" * 100_000}, "malformed"),
    "sign type RSA (SHA1)": (lambda s, p, forger: {**p, "sign_type": "RSA"}, "malformed"),
    "repeated parameter": (
        lambda s, p, forger: _query_dict(p, extra=("total_amount", "1.00")),
        "malformed",
    ),
}


def _query_dict(params, extra):
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query[key] = value
    query.appendlist(*extra)
    return query


@pytest.mark.parametrize("case", sorted(BAD))
def test_record_notification_rejects_and_changes_nothing_when_the_notification_is_bad(
    case, started, tmp_path, caplog
):
    make, reason = BAD[case]
    params = make(started, sandbox.notification_for(started.out_trade_no), tmp_path / "k.pem")
    before = _state()

    with caplog.at_level(logging.WARNING, logger="omnimall.payments"):
        result = notify(params)

    assert (result.outcome, result.reason) == ("rejected", reason)
    assert result.newly_captured is False
    assert _state() == before
    log = NotificationLog.objects.get()
    assert log.outcome == "rejected"
    assert log.reason.startswith(reason)
    assert "sign" not in log.params
    assert reason in caplog.text
    signature = params.get("sign") if hasattr(params, "get") else None
    if signature:
        assert signature not in caplog.text
        assert signature not in str(log.params)


def test_record_notification_is_a_duplicate_when_the_same_notification_comes_again(started):
    params = sandbox.notification_for(started.out_trade_no)
    notify(params)
    before = _state()

    again = notify(params)
    fresh = notify(sandbox.notification_for(started.out_trade_no))  # a new notify_id
    finished = notify(sandbox.notification_for(started.out_trade_no, "TRADE_FINISHED"))

    for result in (again, fresh, finished):
        assert (result.outcome, result.newly_captured) == ("duplicate", False)
    assert _state() == before
    assert PaymentEntry.objects.count() == 1
    assert NotificationLog.objects.count() == 4


def test_record_notification_ignores_trade_closed_when_it_arrives_after_the_capture(started):
    notify(sandbox.notification_for(started.out_trade_no))
    before = _state()

    result = notify(sandbox.notification_for(started.out_trade_no, "TRADE_CLOSED"))

    assert (result.outcome, result.reason) == ("ignored", "closed_after_capture")
    assert _state() == before
    assert Payment.objects.get(pk=started.payment_id).state == "paid"


def test_record_notification_ignores_wait_buyer_pay():
    started = start_payment()
    before = _state()

    result = notify(sandbox.notification_for(started.out_trade_no, "WAIT_BUYER_PAY"))

    assert (result.outcome, result.reason) == ("ignored", "waiting")
    assert _state() == before


def test_record_notification_fails_the_payment_when_the_trade_is_closed_unpaid():
    started = start_payment()

    result = notify(sandbox.notification_for(started.out_trade_no, "TRADE_CLOSED"))
    again = notify(sandbox.notification_for(started.out_trade_no, "TRADE_CLOSED"))

    assert (result.outcome, result.reason, result.newly_captured) == ("accepted", "closed", False)
    assert (again.outcome, again.reason) == ("duplicate", "already_closed")
    assert Payment.objects.get(pk=started.payment_id).state == "failed"
    assert not PaymentEntry.objects.exists()


def test_record_notification_still_captures_when_the_payment_was_closed_on_our_side(started):
    Payment.objects.filter(pk=started.payment_id).update(state="cancelled")

    result = notify(sandbox.notification_for(started.out_trade_no))

    assert (result.outcome, result.newly_captured) == ("accepted", True)
    assert Payment.objects.get(pk=started.payment_id).state == "paid"
    assert_ledger_matches_cache()


def test_record_notification_reads_a_posted_query_dict(started):
    query = QueryDict(mutable=True)
    query.update(sandbox.notification_for(started.out_trade_no))

    result = notify(query, remote_addr="not an address")

    assert result.outcome == "accepted"
    assert NotificationLog.objects.get().remote_addr is None


def test_record_notification_refuses_an_unknown_gateway(started):
    from omnimall.payments import services as payments

    result = payments.record_notification(
        gateway="paypal", params=sandbox.notification_for(started.out_trade_no), remote_addr=None
    )

    assert (result.outcome, result.reason) == ("rejected", "unknown_gateway")


def test_record_notification_leaves_nothing_when_the_callers_transaction_rolls_back(started):
    params = sandbox.notification_for(started.out_trade_no)

    def caller_fails_after_recording():
        with transaction.atomic():
            notify(params)
            raise RollbackError

    with pytest.raises(RollbackError):
        caller_fails_after_recording()

    assert not PaymentEntry.objects.exists()
    assert not NotificationLog.objects.exists()
    assert Payment.objects.get(pk=started.payment_id).state == "pending"


def test_paid_payment_ledger_matches_cached_totals():
    paid_payment("59.90")

    assert_ledger_matches_cache()


def test_record_notification_captures_in_few_queries(started, django_assert_max_num_queries):
    params = sandbox.notification_for(started.out_trade_no)

    # Lock, ledger insert (in a savepoint), cached totals, log row: the notify budget.
    with django_assert_max_num_queries(8):
        result = notify(params)

    assert result.newly_captured
