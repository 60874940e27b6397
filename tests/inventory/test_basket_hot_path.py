"""reserve_basket's hand-written common path: one lock statement (with the channel's rules),
one conditional UPDATE per level, one INSERT; no savepoint while every line fits."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from omnimall.inventory import services
from omnimall.inventory.errors import InsufficientStockError, UnknownChannelError
from omnimall.inventory.models import LocationKind, Reservation
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus

pytestmark = pytest.mark.django_db

ONLINE = "online"  # created by the channels data migration


@pytest.fixture
def stock():
    """A warehouse and a store with 10 units of each of two SKUs."""
    warehouse = make_location("wh-hot", priority=1)
    store = make_location("store-hot", kind=LocationKind.STORE, priority=50)
    skus = make_skus(2)
    for location in (warehouse, store):
        for sku in skus:
            services.receive_stock(
                location_id=location.pk, sku_id=sku.pk, quantity=10, actor=STOCK_ACTOR
            )
    return warehouse, store, skus


def _rule(location, units):
    services.set_channel_safety_stock(
        channel_code=ONLINE,
        location_id=None if location is None else location.pk,
        units=units,
        actor=STOCK_ACTOR,
    )


def test_reserve_basket_sends_lock_updates_and_one_insert_when_every_line_fits(stock):
    warehouse, store, (a, b) = stock
    lines = [(warehouse.pk, a.pk, 2), (store.pk, b.pk, 3), (warehouse.pk, b.pk, 1)]

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        held = services.reserve_basket(lines=lines, channel_code=ONLINE)

    statements = [q["sql"] for q in queries.captured_queries]
    assert not [sql for sql in statements if "SAVEPOINT" in sql]
    assert len(statements) == 1 + len(lines) + 1  # lock, an UPDATE per level, INSERT
    assert [(r.level.location_id, r.level.sku_id, r.quantity) for r in held] == lines
    assert [level_of(warehouse, a).reserved, level_of(store, b).reserved] == [2, 3]
    call_command("check_stock_ledger")


def test_reserve_basket_keeps_back_a_locations_rule_over_the_channel_wide_one(stock):
    warehouse, store, (a, _) = stock
    _rule(None, 3)  # everywhere: 3 kept back
    _rule(store, 6)  # but 6 at the store

    services.reserve_basket(lines=[(warehouse.pk, a.pk, 7)], channel_code=ONLINE)
    with pytest.raises(InsufficientStockError) as refused:
        services.reserve_basket(lines=[(store.pk, a.pk, 5)], channel_code=ONLINE)
    held = services.reserve_basket(lines=[(store.pk, a.pk, 4)], channel_code=ONLINE)
    plain = services.reserve_basket(lines=[(store.pk, a.pk, 6)])  # no channel: no rule

    assert [(s.requested, s.available) for s in refused.value.shortages] == [(5, 4)]
    assert [r.quantity for r in held] == [4]
    assert [r.quantity for r in plain] == [6]
    assert level_of(warehouse, a).reserved == 7
    assert level_of(store, a).reserved == 10


def test_reserve_basket_refuses_an_unknown_channel_when_no_level_matches(stock):
    _, store, _ = stock
    (other,) = make_skus(1)

    with pytest.raises(UnknownChannelError):
        services.reserve_basket(lines=[(store.pk, other.pk, 1)], channel_code="nowhere")


def test_reserve_basket_refusal_leaves_the_callers_transaction_usable(stock):
    warehouse, _, (a, b) = stock

    with transaction.atomic():
        with pytest.raises(InsufficientStockError):
            services.reserve_basket(lines=[(warehouse.pk, a.pk, 1), (warehouse.pk, b.pk, 11)])
        held = services.reserve_basket(lines=[(warehouse.pk, a.pk, 1), (warehouse.pk, b.pk, 10)])

    assert [r.quantity for r in held] == [1, 10]
    assert Reservation.objects.count() == 2
    assert [level_of(warehouse, a).reserved, level_of(warehouse, b).reserved] == [1, 10]
    call_command("check_stock_ledger")
