"""Race tests: many threads, one row. Each thread uses (and closes) its own connection."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from omnimall.core import clock
from omnimall.inventory import services
from omnimall.inventory.errors import InsufficientStockError
from omnimall.inventory.models import Reservation, ReservationState
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus

BUYERS = 64
UNITS = 10


def _require_postgresql() -> None:
    # SQLite's test database is a shared-cache in-memory file: threads that write at the
    # same time get "database table is locked" instead of waiting, so the race there
    # measures SQLite's locking, not reserve_stock. SQLite serialises writers anyway.
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")


def _run_together(count: int, work):
    """Run ``work(i)`` in ``count`` threads released at the same instant; return results."""
    barrier = threading.Barrier(count)

    def run(i: int):
        try:
            barrier.wait(timeout=30)
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_reserve_stock_sells_exactly_the_last_units_when_64_buyers_race():
    _require_postgresql()
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

    outcomes = _run_together(BUYERS, buy)

    assert outcomes.count("held") == UNITS
    assert outcomes.count("out_of_stock") == BUYERS - UNITS
    level = level_of(location, sku)
    assert (level.on_hand, level.reserved) == (UNITS, UNITS)
    assert Reservation.objects.filter(state=ReservationState.HELD).count() == UNITS
    call_command("check_stock_ledger")  # raises CommandError on any mismatch


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_lapsed_holds_are_freed_once_when_sweepers_and_buyers_race():
    _require_postgresql()
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

    outcomes = _run_together(32, act)

    level = level_of(location, sku)
    # 24 buyers, 20 units whose holds lapsed: each unit is freed once and resold once.
    assert level.reserved == outcomes.count("held") == 20
    assert outcomes.count("out_of_stock") == 4
    assert Reservation.objects.filter(state=ReservationState.EXPIRED).count() == 20
    call_command("check_stock_ledger")
