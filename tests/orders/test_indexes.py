"""The order table's indexes: those the model declares, and no ``LIKE 'x%'`` twins."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from omnimall.orders.models import Order
from tests.orders.factories import make_shop, place

pytestmark = pytest.mark.django_db


def _indexes() -> dict[str, dict]:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, Order._meta.db_table)


def test_order_text_columns_have_their_declared_indexes_and_unique_constraints():
    found = _indexes()

    columns = {name: info["columns"] for name, info in found.items()}
    for name, column in [
        ("order_state_idx", "state"),
        ("order_pickup_code_idx", "pickup_code"),
        ("order_cart_token_idx", "cart_token"),
    ]:
        assert columns.get(name) == [column], name
    assert {
        tuple(info["columns"])
        for info in found.values()
        if info["unique"] and not info["primary_key"]
    } >= {("number",), ("guest_token",)}


def test_order_table_has_no_pattern_ops_index_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("varchar_pattern_ops indexes are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [Order._meta.db_table, "%pattern_ops%"],
        )
        pattern = [row[0] for row in cursor.fetchall()]

    assert pattern == []
    assert {"order_number_uniq", "order_guest_token_uniq"} <= set(_indexes())


def test_order_number_and_guest_token_stay_unique():
    placed = place(make_shop())
    order = Order.objects.get(pk=placed.order_id)
    fields = {
        f.attname: getattr(order, f.attname)
        for f in Order._meta.concrete_fields
        if not f.primary_key
    }

    for field, value in [("guest_token", "another-token"), ("number", "999999999999")]:
        clash = Order(**{**fields, field: value})
        with pytest.raises(IntegrityError), transaction.atomic():
            clash.save(force_insert=True)
