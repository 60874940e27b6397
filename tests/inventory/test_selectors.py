from __future__ import annotations

from datetime import timedelta

import pytest

from omnimall.core import clock
from omnimall.inventory import selectors, services
from omnimall.inventory.models import LocationKind
from tests.inventory.factories import STOCK_ACTOR, make_location, make_skus

pytestmark = pytest.mark.django_db


def _receive(location, sku, quantity):
    services.receive_stock(
        location_id=location.pk, sku_id=sku.pk, quantity=quantity, actor=STOCK_ACTOR
    )


def test_get_sku_availability_sums_locations_when_stock_is_spread():
    warehouse = make_location("wh", priority=1)
    store = make_location("store", kind=LocationKind.STORE, priority=50, offers_pickup=True)
    closed = make_location("closed", is_active=False)
    sku, other = make_skus(2)
    _receive(warehouse, sku, 10)
    _receive(store, sku, 4)
    _receive(closed, sku, 100)
    services.set_safety_stock(
        location_id=store.pk, sku_id=sku.pk, safety_stock=1, actor=STOCK_ACTOR
    )
    services.reserve_stock(location_id=warehouse.pk, sku_id=sku.pk, quantity=3)

    availability = selectors.get_sku_availability(sku_id=sku.pk)

    assert (availability.on_hand, availability.available) == (14, 10)
    assert [(loc.location_code, loc.reserved, loc.available) for loc in availability.locations] == [
        ("wh", 3, 7),
        ("store", 0, 3),
    ]
    assert availability.locations[1].offers_pickup is True
    assert selectors.get_sku_availability(sku_id=other.pk).available == 0


def test_list_availability_by_location_ignores_lapsed_holds_when_sweeper_has_not_run():
    warehouse = make_location("wh")
    (sku,) = make_skus()
    _receive(warehouse, sku, 5)
    start = clock.now()
    services.reserve_stock(
        location_id=warehouse.pk,
        sku_id=sku.pk,
        quantity=4,
        now=start,
        hold_for=timedelta(minutes=15),
    )

    before = selectors.list_availability_by_location(sku_id=sku.pk, now=start)
    after = selectors.list_availability_by_location(
        sku_id=sku.pk, now=start + timedelta(minutes=15)
    )

    assert [loc.available for loc in before] == [1]
    assert [(loc.reserved, loc.available) for loc in after] == [(0, 5)]


def test_list_sku_availability_uses_one_query_when_asked_for_many_skus(
    django_assert_num_queries,
):
    locations = [make_location(f"wh-{n}") for n in range(3)]
    skus = make_skus(4)
    for location in locations:
        for sku in skus:
            _receive(location, sku, 2)

    with django_assert_num_queries(1):
        result = selectors.list_sku_availability(sku_ids=[s.pk for s in skus])

    assert {sku_id: a.available for sku_id, a in result.items()} == {s.pk: 6 for s in skus}
