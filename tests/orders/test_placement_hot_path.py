"""place_order's hand-written writes: the order number claimed by the INSERT itself, the
locations read once for the plan and the credit, no savepoint on the way."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from omnimall.inventory.selectors import allocation
from omnimall.orders.models import Order, OrderAllocation, OrderEvent, OrderLine
from omnimall.orders.services import placement
from omnimall.payments.models import Payment
from tests.orders.factories import make_shop, place

pytestmark = pytest.mark.django_db


def _numbers(monkeypatch, *numbers):
    given = iter(numbers)
    monkeypatch.setattr(placement, "new_order_number", lambda now: next(given))


def test_place_order_takes_the_next_number_when_the_first_is_taken(monkeypatch):
    shop = make_shop(skus=2)
    _numbers(monkeypatch, "261127000001")
    first = place(shop, quantities=(1, 1))
    _numbers(monkeypatch, "261127000001", "261127000002")

    with transaction.atomic():  # the clash leaves the transaction usable
        second = place(shop, quantities=(1, 1))

    assert (first.number, second.number) == ("261127000001", "261127000002")
    order = Order.objects.get(number="261127000002")
    assert order.guest_token == second.guest_token != first.guest_token
    assert OrderLine.objects.filter(order=order).count() == 2
    assert OrderAllocation.objects.filter(line__order=order).count() == 2
    assert OrderEvent.objects.filter(order=order, message="placed").count() == 1
    assert Payment.objects.filter(order=order).count() == 1


def test_place_order_gives_up_when_every_number_is_taken(monkeypatch):
    shop = make_shop(skus=1)
    _numbers(monkeypatch, "261127000003")
    place(shop, quantities=(1,))
    _numbers(monkeypatch, *["261127000003"] * placement.NUMBER_ATTEMPTS)

    with pytest.raises(IntegrityError, match="no free order number"):
        place(shop, quantities=(1,))


def test_place_order_reads_the_locations_once_and_takes_no_savepoint():
    shop = make_shop(skus=3)

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        place(shop, quantities=(1, 1, 1))

    locations = f"FROM {connection.ops.quote_name('inventory_stocklocation')} WHERE"
    statements = [q["sql"] for q in queries.captured_queries]
    assert len([sql for sql in statements if locations in sql]) == 1
    assert not [sql for sql in statements if "SAVEPOINT" in sql]


def test_list_locations_answers_from_one_read_inside_locations_read_once(
    django_assert_num_queries,
):
    shop = make_shop(skus=1)

    with django_assert_num_queries(1), allocation.locations_read_once():
        first = allocation.list_locations()
        with allocation.locations_read_once():
            second = allocation.list_locations()
    with django_assert_num_queries(1):
        third = allocation.list_locations()

    assert first == second == third
    store = next(loc for loc in first if loc.location_id == shop.store.pk)
    assert (store.offers_pickup, store.can_ship, store.opening_hours) == (
        True,
        False,
        "10:00-22:00",
    )
