"""The payments back office finds a payment by its exact numbers through their indexes."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from omnimall.payments.models import Payment
from tests.orders.factories import make_shop, place

pytestmark = pytest.mark.django_db


def test_a_payment_is_found_by_our_trade_number_and_the_order_number_without_upper():
    placed = place(make_shop())
    payment = Payment.objects.get(order_id=placed.order_id)
    staff = Client()
    staff.force_login(
        get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456!")
    )

    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)  # the request clears connection.queries: record them here
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        by_trade = staff.get("/admin/payments/payment/", {"q": payment.out_trade_no})
    by_order = staff.get("/admin/payments/payment/", {"q": placed.number})
    miss = staff.get("/admin/payments/payment/", {"q": payment.out_trade_no.upper() + "X"})

    assert payment.out_trade_no in by_trade.content.decode()
    assert payment.out_trade_no in by_order.content.decode()
    assert payment.out_trade_no not in miss.content.decode()
    searches = [sql for sql in statements if "out_trade_no" in sql and "WHERE" in sql]
    assert searches
    # iexact is UPPER(…) = UPPER(…) on PostgreSQL and LIKE on SQLite: neither uses the index.
    assert not any("UPPER(" in sql or " LIKE " in sql for sql in searches)
