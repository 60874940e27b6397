"""Query budgets of the work after a payment (added with the speed push): the
notification, the allocation and the delivery of the emails each stay within a few
statements, and what they write is what the ORM paths wrote before."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection

from omnimall.core import outbox
from omnimall.core.models import OutboxMessage, OutboxState
from omnimall.inventory.models import FulfilmentRequest
from omnimall.orders.models import Order, OrderEvent
from omnimall.orders.services import fulfilment, payment
from omnimall.payments.models import NotificationLog
from tests.orders.factories import make_shop, notification, place

pytestmark = pytest.mark.django_db


def test_settle_notification_for_a_guest_takes_eleven_statements_plus_its_savepoint(
    django_assert_max_num_queries, settings
):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    shop = make_shop()
    placed = place(shop)
    params = notification(placed.order_id)

    # Payment lock, capture (entry and totals), log row; order lock and update,
    # allocations, holds extended, subscribers, the email, the timeline events; the
    # test's own transaction adds a savepoint and its release.
    with django_assert_max_num_queries(13):
        assert payment.settle_notification(gateway="sandbox", params=params, remote_addr=None)

    order = Order.objects.get(pk=placed.order_id)
    assert order.state == "paid"
    kinds = list(
        OrderEvent.objects.filter(order=order).order_by("pk").values_list("kind", "state_to")
    )
    assert kinds[-2:] == [("state", "paid"), ("email", "")]
    assert NotificationLog.objects.filter(out_trade_no=params["out_trade_no"]).count() == 1


def test_allocation_takes_ten_statements_and_numbers_requests_fr_id(
    django_assert_max_num_queries, settings
):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    shop = make_shop()
    placed = place(shop)
    payment.settle_notification(
        gateway="sandbox", params=notification(placed.order_id), remote_addr=None
    )

    # Order lock, live allocations, the reservations checked, the request (with its
    # number on PostgreSQL; and its number set after on SQLite), lines, audit entry,
    # allocations linked, order update, timeline event; plus the test's savepoint and
    # the content type of the audit entry (cached by Django after its first use).
    with django_assert_max_num_queries(13):
        fulfilment.allocate_order(order_id=placed.order_id)

    order = Order.objects.get(pk=placed.order_id)
    assert order.state == "allocated"
    (request,) = FulfilmentRequest.objects.filter(owner_id=order.number)
    assert request.number == f"FR-{request.pk:06d}"
    assert re.fullmatch(r"FR-\d{6,}", request.number)


def test_delivering_one_email_takes_two_statements(django_assert_num_queries, settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    outbox.send_email(to="a@example.com", subject="s", body="b", topic="t", dedupe_key="k")
    (message,) = OutboxMessage.objects.all()

    # One claim (UPDATE … RETURNING), one outcome; a short chunk needs no second claim.
    with django_assert_num_queries(2):
        report = outbox.deliver_due(message_ids=[message.pk])

    assert report.delivered == 1
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get().state == OutboxState.DELIVERED


def test_writing_a_message_twice_is_one_statement_each_and_one_row(django_assert_num_queries):
    with django_assert_num_queries(1):
        outbox.send_email(to="a@example.com", subject="s", body="b", topic="t", dedupe_key="k")
    with django_assert_num_queries(1):
        outbox.send_email(to="a@example.com", subject="s", body="b", topic="t", dedupe_key="k")

    assert OutboxMessage.objects.count() == 1
    assert connection.in_atomic_block  # the test's transaction is still usable
