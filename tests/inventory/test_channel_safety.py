"""Channel safety stock: units a sales channel keeps back, on top of the level's own."""

from __future__ import annotations

import pytest

from omnimall.core.models import AuditEntry
from omnimall.inventory import selectors, services
from omnimall.inventory.errors import (
    InsufficientStockError,
    InvalidQuantityError,
    StockLocationNotFoundError,
    UnknownChannelError,
)
from omnimall.inventory.models import ChannelSafetyStock, LocationKind
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus

pytestmark = pytest.mark.django_db

ONLINE = "online"  # created by the channels data migration, like "stores"


@pytest.fixture
def stock():
    """A warehouse and a store holding 10 units of one SKU each."""
    warehouse = make_location("wh-cs", priority=1)
    store = make_location("store-cs", kind=LocationKind.STORE, priority=50)
    (sku,) = make_skus()
    for location in (warehouse, store):
        services.receive_stock(
            location_id=location.pk, sku_id=sku.pk, quantity=10, actor=STOCK_ACTOR
        )
    return warehouse, store, sku


def _rule(location, units, channel=ONLINE):
    return services.set_channel_safety_stock(
        channel_code=channel,
        location_id=None if location is None else location.pk,
        units=units,
        actor=STOCK_ACTOR,
    )


def test_set_channel_safety_stock_creates_then_updates_rule_with_audit_when_set_twice(stock):
    _, store, _ = stock

    first = _rule(store, 2)
    second = _rule(store, 3)

    assert first.pk == second.pk
    assert ChannelSafetyStock.objects.get(pk=first.pk).units == 3
    changes = list(
        AuditEntry.objects.filter(action="stock.channel_safety_stock_set")
        .order_by("pk")
        .values_list("changes", flat=True)
    )
    assert [c["units"] for c in changes] == [[None, 2], [2, 3]]


def test_set_channel_safety_stock_keeps_one_channel_wide_rule_when_set_twice(stock):
    _rule(None, 1)
    _rule(None, 4)

    rules = ChannelSafetyStock.objects.filter(location__isnull=True)
    assert list(rules.values_list("units", flat=True)) == [4]


@pytest.mark.parametrize("units", [-1, True, 1.5, "2"])
def test_set_channel_safety_stock_refuses_when_units_are_not_a_count(stock, units):
    _, store, _ = stock

    with pytest.raises(InvalidQuantityError) as refused:
        _rule(store, units)

    assert refused.value.status == 422
    assert not ChannelSafetyStock.objects.exists()


def test_set_channel_safety_stock_refuses_when_channel_or_location_is_unknown(stock):
    _, store, _ = stock

    with pytest.raises(UnknownChannelError) as unknown_channel:
        _rule(store, 1, channel="nowhere")
    with pytest.raises(StockLocationNotFoundError):
        services.set_channel_safety_stock(
            channel_code=ONLINE, location_id=999_999, units=1, actor=STOCK_ACTOR
        )

    assert unknown_channel.value.status == 404
    assert not ChannelSafetyStock.objects.exists()


def test_reserve_stock_keeps_channel_units_back_when_channel_is_named(stock):
    _, store, sku = stock
    _rule(store, 3)
    services.set_safety_stock(
        location_id=store.pk, sku_id=sku.pk, safety_stock=2, actor=STOCK_ACTOR
    )

    with pytest.raises(InsufficientStockError) as refused:
        services.reserve_stock(location_id=store.pk, sku_id=sku.pk, quantity=6, channel_code=ONLINE)
    held = services.reserve_stock(
        location_id=store.pk, sku_id=sku.pk, quantity=5, channel_code=ONLINE
    )

    # 10 on hand − 2 (level) − 3 (online at this store) = 5 for the online channel.
    assert refused.value.shortages[0].available == 5
    assert held.quantity == 5
    assert level_of(store, sku).reserved == 5


def test_reserve_stock_ignores_channel_rules_when_no_channel_is_named(stock):
    _, store, sku = stock
    _rule(store, 3)

    services.reserve_stock(location_id=store.pk, sku_id=sku.pk, quantity=10)

    assert level_of(store, sku).reserved == 10


def test_reserve_stock_uses_location_rule_over_channel_wide_rule_when_both_exist(stock):
    warehouse, store, sku = stock
    _rule(None, 4)
    _rule(warehouse, 0)  # the warehouse keeps nothing back for online

    services.reserve_stock(
        location_id=warehouse.pk, sku_id=sku.pk, quantity=10, channel_code=ONLINE
    )
    with pytest.raises(InsufficientStockError) as refused:
        services.reserve_stock(location_id=store.pk, sku_id=sku.pk, quantity=7, channel_code=ONLINE)

    assert refused.value.shortages[0].available == 6
    assert level_of(store, sku).reserved == 0


def test_reserve_stock_applies_only_the_named_channels_rules_when_channels_differ(stock):
    _, store, sku = stock
    _rule(store, 8, channel="stores")

    services.reserve_stock(location_id=store.pk, sku_id=sku.pk, quantity=10, channel_code=ONLINE)

    assert level_of(store, sku).reserved == 10


def test_reserve_stock_refuses_when_channel_is_unknown(stock):
    _, store, sku = stock

    with pytest.raises(UnknownChannelError):
        services.reserve_stock(
            location_id=store.pk, sku_id=sku.pk, quantity=1, channel_code="nowhere"
        )

    assert level_of(store, sku).reserved == 0


def test_list_sku_availability_leaves_out_channel_units_when_channel_is_named(
    stock, django_assert_num_queries
):
    warehouse, store, sku = stock
    _rule(None, 1)
    _rule(store, 4)
    services.reserve_stock(location_id=store.pk, sku_id=sku.pk, quantity=2)

    with django_assert_num_queries(1):
        online = selectors.list_sku_availability(sku_ids=[sku.pk], channel_code=ONLINE)[sku.pk]
    plain = selectors.list_sku_availability(sku_ids=[sku.pk])[sku.pk]

    assert [(r.location_id, r.safety_stock, r.available) for r in online.locations] == [
        (warehouse.pk, 1, 9),
        (store.pk, 4, 4),
    ]
    assert online.available == 13
    assert plain.available == 18
    rows = selectors.list_availability_by_location(sku_id=sku.pk, channel_code=ONLINE)
    assert [r.available for r in rows] == [9, 4]


def test_list_sku_availability_never_goes_below_zero_when_channel_keeps_back_more(stock):
    _, store, sku = stock
    _rule(store, 50)

    rows = selectors.list_availability_by_location(sku_id=sku.pk, channel_code=ONLINE)

    assert [r.available for r in rows if r.location_id == store.pk] == [0]
