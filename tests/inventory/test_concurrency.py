"""Race tests: many threads at once. Each thread uses (and closes) its own connection.

They run on PostgreSQL and on SQLite. SQLite's default test database is a shared-cache
in-memory file, where concurrent writers get "database table is locked" at once instead of
waiting; so on SQLite the ``race_database`` fixture copies the test database into a real
file for the test and points the test's connections at it, with the production settings
(WAL, ``BEGIN IMMEDIATE``, a 10 s busy timeout): writers queue, and the test shows that
the services never oversell there either. Any error other than ``out_of_stock`` (a
deadlock, "database is locked") escapes ``_run_together`` and fails the test.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import TypeVar

import pytest
from django.core.management import call_command

from omnimall.core import clock
from omnimall.inventory import services
from omnimall.inventory.errors import InsufficientStockError
from omnimall.inventory.models import LocationKind, Reservation, ReservationState
from omnimall.inventory.selectors import transfers as transfer_selectors
from omnimall.inventory.services import transfers
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus
from tests.races import run_together

BUYERS = 64
UNITS = 10
T = TypeVar("T")

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_reserve_stock_sells_exactly_the_last_units_when_64_buyers_race(race_database):
    location = make_location("wh-race")
    (sku,) = make_skus()
    services.receive_stock(
        location_id=location.pk, sku_id=sku.pk, quantity=UNITS, actor=STOCK_ACTOR
    )

    def buy(_: int) -> str:
        try:
            services.reserve_stock(location_id=location.pk, sku_id=sku.pk, quantity=1)
        except InsufficientStockError as refused:
            return refused.code
        return "held"

    outcomes = run_together(BUYERS, buy)

    assert outcomes.count("held") == UNITS
    assert outcomes.count("out_of_stock") == BUYERS - UNITS
    level = level_of(location, sku)
    assert (level.on_hand, level.reserved) == (UNITS, UNITS)
    assert Reservation.objects.filter(state=ReservationState.HELD).count() == UNITS
    call_command("check_stock_ledger")  # raises CommandError on any mismatch


def test_lapsed_holds_are_freed_once_when_sweepers_and_buyers_race(race_database):
    location = make_location("wh-sweep")
    (sku,) = make_skus()
    services.receive_stock(location_id=location.pk, sku_id=sku.pk, quantity=20, actor=STOCK_ACTOR)
    start = clock.now()
    for _ in range(20):
        services.reserve_stock(
            location_id=location.pk,
            sku_id=sku.pk,
            quantity=1,
            now=start,
            hold_for=timedelta(minutes=1),
        )
    later = start + timedelta(minutes=2)

    def act(i: int) -> str:
        if i % 4 == 0:
            services.release_expired_reservations(now=later, batch_size=3)
            return "swept"
        try:
            services.reserve_stock(location_id=location.pk, sku_id=sku.pk, quantity=1, now=later)
        except InsufficientStockError:
            return "out_of_stock"
        return "held"

    outcomes = run_together(32, act)

    level = level_of(location, sku)
    # 24 buyers, 20 units whose holds lapsed: each unit is freed once and resold once.
    assert level.reserved == outcomes.count("held") == 20
    assert outcomes.count("out_of_stock") == 4
    assert Reservation.objects.filter(state=ReservationState.EXPIRED).count() == 20
    call_command("check_stock_ledger")


def test_reserve_basket_never_deadlocks_when_baskets_name_the_same_skus_in_opposite_orders(
    race_database,
):
    warehouse = make_location("wh-baskets")
    skus = make_skus(3)
    for sku in skus:
        services.receive_stock(
            location_id=warehouse.pk, sku_id=sku.pk, quantity=20, actor=STOCK_ACTOR
        )
    # Every order of the three SKUs (and of two of them), so baskets cross each other.
    orders = [*itertools.permutations(skus), *itertools.permutations(skus[:2])]

    def buy(i: int) -> str:
        lines = [(warehouse.pk, sku.pk, 1) for sku in orders[i % len(orders)]]
        try:
            services.reserve_basket(lines=lines, owner_type="checkout", owner_id=str(i))
        except InsufficientStockError as refused:
            return refused.code
        return f"held {len(lines)}"

    outcomes = run_together(48, buy)

    three, two = outcomes.count("held 3"), outcomes.count("held 2")
    assert three + two + outcomes.count("out_of_stock") == 48
    # All or nothing: every unit of the third SKU went to a three-line basket, and the
    # first two SKUs ran out together (each basket takes one of each).
    reserved = [level_of(warehouse, sku).reserved for sku in skus]
    assert reserved == [three + two, three + two, three]
    assert reserved[0] == 20
    assert Reservation.objects.filter(state=ReservationState.HELD).count() == 3 * three + 2 * two
    call_command("check_stock_ledger")


def test_stock_stays_exact_when_baskets_transfers_and_single_reservations_race(race_database):
    warehouse = make_location("wh-mixed")
    store = make_location("store-mixed", kind=LocationKind.STORE)
    skus = make_skus(2)
    for sku in skus:
        services.receive_stock(
            location_id=warehouse.pk, sku_id=sku.pk, quantity=30, actor=STOCK_ACTOR
        )

    def act(i: int) -> str:
        ordered = skus if i % 2 else skus[::-1]
        try:
            if i % 3 == 0:  # two units of each SKU leave for the store
                transfers.transfer_stock(
                    source_id=warehouse.pk,
                    destination_id=store.pk,
                    lines=[(sku.pk, 2) for sku in ordered],
                    actor=STOCK_ACTOR,
                )
                return "transferred"
            if i % 3 == 1:
                services.reserve_basket(lines=[(warehouse.pk, sku.pk, 1) for sku in ordered])
                return "basket"
            services.reserve_stock(location_id=warehouse.pk, sku_id=ordered[0].pk, quantity=1)
            return f"single {ordered[0].pk}"
        except InsufficientStockError:
            return "out_of_stock"

    outcomes = run_together(48, act)

    moved = 2 * outcomes.count("transferred")
    baskets = outcomes.count("basket")
    for sku in skus:
        level = level_of(warehouse, sku)
        singles = outcomes.count(f"single {sku.pk}")
        assert level.on_hand == 30 - moved
        assert level.reserved == baskets + singles
        assert 0 <= level.reserved <= level.on_hand
    in_transit = transfer_selectors.in_transit_by_sku(sku_ids=[sku.pk for sku in skus])
    assert in_transit == ({sku.pk: moved for sku in skus} if moved else {})
    call_command("check_stock_ledger")
