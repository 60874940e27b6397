"""Settling notifications: paid once, allocation after commit, the notify endpoint."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from omnimall.core import clock, outbox
from omnimall.inventory.models import FulfilmentRequest, Reservation
from omnimall.orders.models import Order, OrderAllocation, OrderEvent
from omnimall.orders.services import cancellation, payment
from omnimall.payments.models import PaymentEntry, SandboxTrade
from tests.orders.factories import (
    ACTOR,
    make_shop,
    notification,
    pay,
    pay_at_gateway,
    place,
)

pytestmark = pytest.mark.django_db
NOTIFY = "/payments/notify/sandbox/"


def test_notification_marks_the_order_paid_and_allocates_it(django_capture_on_commit_callbacks):
    shop = make_shop()
    placed = place(shop)
    pay_at_gateway(placed.order_id)
    params = notification(placed.order_id)

    with django_capture_on_commit_callbacks(execute=True):
        reply = Client().post(NOTIFY, params)

    assert reply.status_code == 200
    assert reply.content == b"success"
    assert reply["Content-Type"].startswith("text/plain")
    order = Order.objects.get(pk=placed.order_id)
    assert order.state == "allocated"
    assert order.amount_paid == order.total
    assert order.paid_at is not None
    requests = FulfilmentRequest.objects.filter(owner_type="order", owner_id=order.number)
    assert [r.location_id for r in requests] == [shop.warehouse.pk]
    assert not OrderAllocation.objects.filter(line__order=order, fulfilment_line=None).exists()
    held = Reservation.objects.filter(owner_id=order.number)
    assert all(r.expires_at > order.reserved_until for r in held)


def test_duplicate_notifications_pay_once(django_capture_on_commit_callbacks):
    shop = make_shop()
    placed = place(shop)
    params = notification(placed.order_id)

    with django_capture_on_commit_callbacks(execute=True):
        replies = [Client().post(NOTIFY, params).content for _ in range(3)]

    assert replies == [b"success"] * 3
    assert PaymentEntry.objects.filter(payment__order_id=placed.order_id).count() == 1
    order = Order.objects.get(pk=placed.order_id)
    assert OrderEvent.objects.filter(order=order, state_to="paid").count() == 1
    assert FulfilmentRequest.objects.filter(owner_id=order.number).count() == 1


def test_tampered_notification_is_refused_and_changes_nothing():
    shop = make_shop()
    placed = place(shop)
    params = notification(placed.order_id)
    params["total_amount"] = "0.01"

    reply = Client().post(NOTIFY, params)

    assert reply.content == b"failure"
    assert Order.objects.get(pk=placed.order_id).state == "pending_payment"


@pytest.mark.parametrize(
    "body", [b"", b"%%%", b"\xff\xfe=\x00"], ids=["empty", "garbage", "bad-bytes"]
)
def test_malformed_notification_gets_failure_not_500(body):
    reply = Client().post(NOTIFY, body, content_type="application/x-www-form-urlencoded")

    assert reply.status_code == 200
    assert reply.content == b"failure"


def test_pickup_order_gets_a_six_digit_code_when_paid():
    shop = make_shop()

    order = pay(place(shop, method="pickup").order_id)

    assert order.state == "allocated"
    assert len(order.pickup_code) == 6
    assert order.pickup_code.isdigit()
    request = FulfilmentRequest.objects.get(owner_id=order.number)
    assert (request.location_id, request.method) == (shop.store.pk, "pickup")


def test_paid_emails_go_out(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    shop = make_shop()

    order = pay(place(shop).order_id)
    outbox.deliver_due()

    subjects = [m.subject for m in mail.outbox if order.number[:6] in m.subject]
    assert any("received" in s for s in subjects)
    assert any("Payment received" in s for s in subjects)
    assert all(m.to == ["shopper@example.com"] for m in mail.outbox)


def test_payment_after_cancellation_is_refunded_automatically():
    shop = make_shop()
    placed = place(shop)
    params = notification(placed.order_id)
    cancellation.cancel_order(
        order_id=placed.order_id, actor=ACTOR, reason="changed my mind", by_shopper=True
    )
    # The bank took the money anyway (its close crossed the shopper's payment).
    SandboxTrade.objects.filter(out_trade_no=params["out_trade_no"]).update(
        status="TRADE_SUCCESS", paid_at=clock.now()
    )

    assert payment.settle_notification(gateway="sandbox", params=params, remote_addr=None)

    order = Order.objects.get(pk=placed.order_id)
    assert order.state == "cancelled"
    assert order.needs_attention
    assert order.amount_paid == order.amount_refunded == order.total
    assert OrderEvent.objects.filter(order=order, kind="problem").exists()


def test_settle_stays_within_its_query_budget(django_assert_max_num_queries):
    shop = make_shop()
    placed = place(shop)
    params = notification(placed.order_id)

    # 16 statements plus savepoints (the notification, the ledger entry, the test)
    with django_assert_max_num_queries(20):
        payment.settle_notification(gateway="sandbox", params=params, remote_addr=None)
