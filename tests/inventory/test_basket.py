"""reserve_basket: every line held, or none; every short line named."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from omnimall.core import clock
from omnimall.inventory import services
from omnimall.inventory.domain import Shortage
from omnimall.inventory.errors import (
    InsufficientStockError,
    InvalidQuantityError,
    UnknownChannelError,
)
from omnimall.inventory.models import Reservation, ReservationState, StockLevel
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock():
    """A warehouse and a store; three SKUs with 5 units each at the warehouse."""
    warehouse = make_location("wh-basket")
    store = make_location("store-basket")
    skus = make_skus(3)
    for sku in skus:
        services.receive_stock(
            location_id=warehouse.pk, sku_id=sku.pk, quantity=5, actor=STOCK_ACTOR
        )
    return warehouse, store, skus


def _reserved(location, skus):
    return [level_of(location, sku).reserved for sku in skus]


def test_reserve_basket_holds_every_line_when_all_fit(stock):
    warehouse, _, (a, b, c) = stock
    start = clock.now()

    held = services.reserve_basket(
        lines=[(warehouse.pk, c.pk, 2), (warehouse.pk, a.pk, 5), (warehouse.pk, b.pk, 1)],
        owner_type="checkout",
        owner_id="42",
        reference="cart-42",
        hold_for=timedelta(minutes=5),
        now=start,
    )

    assert [(r.level.sku_id, r.quantity) for r in held] == [(c.pk, 2), (a.pk, 5), (b.pk, 1)]
    assert all(r.pk is not None for r in held)
    assert {(r.owner_type, r.owner_id, r.reference) for r in held} == {
        ("checkout", "42", "cart-42")
    }
    assert {r.expires_at for r in held} == {start + timedelta(minutes=5)}
    assert _reserved(warehouse, (a, b, c)) == [5, 1, 2]
    call_command("check_stock_ledger")


def test_reserve_basket_merges_duplicate_lines_when_a_sku_is_named_twice(stock):
    warehouse, _, (a, b, _) = stock

    held = services.reserve_basket(
        lines=[(warehouse.pk, a.pk, 2), (warehouse.pk, b.pk, 1), (warehouse.pk, a.pk, 3)]
    )

    assert [(r.level.sku_id, r.quantity) for r in held] == [(a.pk, 5), (b.pk, 1)]
    assert _reserved(warehouse, (a, b)) == [5, 1]


def test_reserve_basket_refuses_duplicates_together_when_their_sum_is_short(stock):
    warehouse, _, (a, _, _) = stock

    with pytest.raises(InsufficientStockError) as refused:
        services.reserve_basket(lines=[(warehouse.pk, a.pk, 3), (warehouse.pk, a.pk, 3)])

    assert [s.as_dict() for s in refused.value.shortages] == [
        {"sku_id": a.pk, "location_id": warehouse.pk, "requested": 6, "available": 5}
    ]


def test_reserve_basket_holds_nothing_and_lists_every_short_line_when_some_lines_fail(stock):
    warehouse, store, (a, b, c) = stock
    closed = make_location("closed-basket", is_active=False)
    services.receive_stock(location_id=closed.pk, sku_id=a.pk, quantity=9, actor=STOCK_ACTOR)
    services.reserve_stock(location_id=warehouse.pk, sku_id=b.pk, quantity=4)

    with pytest.raises(InsufficientStockError) as refused:
        services.reserve_basket(
            lines=[
                (warehouse.pk, a.pk, 5),  # fits, but must not stay held
                (warehouse.pk, b.pk, 2),  # 1 left
                (store.pk, c.pk, 1),  # no level at the store
                (warehouse.pk, c.pk, 6),  # 5 there
                (closed.pk, a.pk, 1),  # an inactive location sells nothing
            ]
        )

    assert refused.value.code == "out_of_stock"
    assert refused.value.status == 409
    assert [
        (s.sku_id, s.location_id, s.requested, s.available) for s in refused.value.shortages
    ] == [
        (b.pk, warehouse.pk, 2, 1),
        (c.pk, store.pk, 1, 0),
        (c.pk, warehouse.pk, 6, 5),
        (a.pk, closed.pk, 1, 0),
    ]
    assert refused.value.details["shortages"][0]["requested"] == 2
    assert _reserved(warehouse, (a, b, c)) == [0, 4, 0]
    assert Reservation.objects.count() == 1
    call_command("check_stock_ledger")


def test_reserve_basket_counts_lapsed_holds_as_free_when_they_block_a_line(stock):
    warehouse, _, (a, b, _) = stock
    start = clock.now()
    old = services.reserve_stock(
        location_id=warehouse.pk,
        sku_id=a.pk,
        quantity=4,
        now=start,
        hold_for=timedelta(minutes=1),
    )
    later = start + timedelta(minutes=2)

    held = services.reserve_basket(
        lines=[(warehouse.pk, a.pk, 5), (warehouse.pk, b.pk, 1)], now=later
    )

    assert [r.quantity for r in held] == [5, 1]
    old.refresh_from_db()
    assert old.state == ReservationState.EXPIRED
    assert _reserved(warehouse, (a, b)) == [5, 1]
    call_command("check_stock_ledger")


def test_reserve_basket_keeps_channel_units_back_when_channel_is_named(stock):
    warehouse, _, (a, b, _) = stock
    services.set_channel_safety_stock(
        channel_code="online", location_id=warehouse.pk, units=1, actor=STOCK_ACTOR
    )

    with pytest.raises(InsufficientStockError) as refused:
        services.reserve_basket(
            lines=[(warehouse.pk, a.pk, 5), (warehouse.pk, b.pk, 4)], channel_code="online"
        )
    held = services.reserve_basket(
        lines=[(warehouse.pk, a.pk, 5), (warehouse.pk, b.pk, 4)], channel_code="stores"
    )

    assert [(s.sku_id, s.available) for s in refused.value.shortages] == [(a.pk, 4)]
    assert len(held) == 2


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [(1, 1, 0)],
        [(1, 1, -2)],
        [(1, 1, True)],
        [(1, 1)],
        ["abc"],
        [(1.5, 1, 1)],
    ],
)
def test_reserve_basket_refuses_when_lines_are_malformed(stock, lines):
    with pytest.raises(InvalidQuantityError) as refused:
        services.reserve_basket(lines=lines)

    assert refused.value.status == 422
    assert not Reservation.objects.exists()


def test_reserve_basket_refuses_when_hold_time_or_channel_is_invalid(stock):
    warehouse, _, (a, _, _) = stock

    with pytest.raises(InvalidQuantityError):
        services.reserve_basket(lines=[(warehouse.pk, a.pk, 1)], hold_for=timedelta(0))
    with pytest.raises(UnknownChannelError):
        services.reserve_basket(lines=[(warehouse.pk, a.pk, 1)], channel_code="nowhere")

    assert not Reservation.objects.exists()


def test_reserve_basket_locks_levels_in_primary_key_order_when_lines_come_reversed(stock):
    warehouse, _, skus = stock
    lines = [(warehouse.pk, sku.pk, 1) for sku in reversed(skus)]
    level_ids = sorted(StockLevel.objects.values_list("pk", flat=True))

    with CaptureQueriesContext(connection) as queries:
        services.reserve_basket(lines=lines)

    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    level_of = {pk: re.compile(rf'(?:"id"|\bid) = {pk}\b') for pk in level_ids}
    order = [next(pk for pk, pattern in level_of.items() if pattern.search(sql)) for sql in updates]
    assert order == level_ids
    if connection.features.has_select_for_update:
        lock_clause = r"FOR (NO KEY )?UPDATE"
        lock = next(q["sql"] for q in queries.captured_queries if re.search(lock_clause, q["sql"]))
        # PostgreSQL locks rows as the sorted rows come: pk order ("1" is the pk column).
        assert re.search(rf'ORDER BY (1|"inventory_stocklevel"\."id") ASC {lock_clause}', lock)


def test_a_shortage_at_a_location_names_the_sku_and_the_location_by_code():
    location = make_location("sh-9")
    sku = make_skus(1)[0]

    refused = InsufficientStockError([Shortage(sku.pk, location.pk, 3, 1)])

    assert refused.details["shortages"] == [
        {
            "sku_id": sku.pk,
            "location_id": location.pk,
            "requested": 3,
            "available": 1,
            "sku": sku.code,
            "location": "sh-9",
        }
    ]
