"""The "placed" email of a pick-up order names the store from placement's location read:
the same text as rendering with the order's own store, without a query for it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from omnimall.core.models import OutboxMessage
from omnimall.inventory.models import StockLocation
from omnimall.orders.models import Order
from omnimall.orders.services import messages
from tests.orders.factories import make_shop, place

pytestmark = pytest.mark.django_db


def _expected_body(order: Order) -> str:
    context = {
        "order": order,
        "number": messages.display_number(order.number),
        "lines": list(order.lines.all()),
        "link": messages.order_link(order),
        "pickup_store": StockLocation.objects.get(pk=order.pickup_store_id),
    }
    return render_to_string("orders/emails/placed.txt", context)


def test_pickup_placed_email_names_the_store_without_reading_it_again(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    shop = make_shop()
    with CaptureQueriesContext(connection) as queries:
        placed = place(shop, method="pickup")
    store_table = StockLocation._meta.db_table
    store_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and f"FROM {connection.ops.quote_name(store_table)}" in q["sql"]
    ]
    assert len(store_reads) == 1, store_reads  # the one location read of the placement
    order = Order.objects.get(pk=placed.order_id)
    email = OutboxMessage.objects.get(topic="order.placed")
    assert email.payload["body"] == _expected_body(order)
    assert "1 Nanjing Road" in email.payload["body"]


def test_a_store_given_for_another_order_is_not_used():
    shop = make_shop()
    placed = place(shop, method="pickup")
    order = Order.objects.get(pk=placed.order_id)

    class Other:
        location_id = -1
        name_en = name_zh = address = "elsewhere"

    assert messages._pickup_store(order, Other()) == order.pickup_store
    assert messages._pickup_store(Order(), Other()) is None
