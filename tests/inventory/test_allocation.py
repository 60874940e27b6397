"""Allocation rules (inventory.domain): pure functions, no database."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnimall.inventory.domain import (
    CITIES,
    AllocationRequest,
    BasketLine,
    Coordinates,
    DeliveryMethod,
    FewestShipmentsStrategy,
    LocationStock,
    StockState,
    distance_km,
    find_city,
    register_strategy,
    same_city,
    stock_state,
    stores_serving_basket,
    strategy_for,
)

SHANGHAI = Coordinates(31.2304, 121.4737)
BEIJING = Coordinates(39.9042, 116.4074)
GUANGZHOU = Coordinates(23.1291, 113.2644)


def _loc(
    location_id,
    available,
    *,
    kind="warehouse",
    priority=10,
    at=None,
    can_ship=True,
    offers_pickup=False,
    city="",
):
    return LocationStock(
        location_id=location_id,
        kind=kind,
        city=city,
        coordinates=at,
        priority=priority,
        can_ship=can_ship,
        offers_pickup=offers_pickup,
        available=available,
    )


def _store(location_id, available, *, at=None, priority=100, can_ship=False):
    return _loc(
        location_id,
        available,
        kind="store",
        priority=priority,
        at=at,
        can_ship=can_ship,
        offers_pickup=True,
    )


def _ship(lines, locations, origin=None, strategy=None):
    request = AllocationRequest(
        lines=tuple(BasketLine(sku, q) for sku, q in lines),
        method=DeliveryMethod.SHIP,
        origin=origin,
    )
    return (strategy or FewestShipmentsStrategy()).plan(request, locations)


def _shipments(plan):
    return [
        (s.location_id, [(line.sku_id, line.quantity) for line in s.lines]) for s in plan.shipments
    ]


def test_distance_km_matches_known_distance_when_shanghai_to_beijing():
    assert distance_km(SHANGHAI, BEIJING) == pytest.approx(1067, abs=5)
    assert distance_km(SHANGHAI, SHANGHAI) == 0


def test_find_city_accepts_english_chinese_and_suffix_when_names_vary():
    assert (
        find_city("Shanghai") is find_city("上海") is find_city("上海市") is find_city(" SHANGHAI ")
    )
    assert find_city("xian") is find_city("Xi'an")
    assert find_city("Atlantis") is None
    assert find_city("x" * 200) is None
    assert same_city("Beijing", "北京市")
    assert not same_city("Beijing", "Shanghai")
    assert same_city("Smalltown", "smalltown")
    assert len({c.name_en for c in CITIES}) == len(CITIES)


def test_stock_state_reports_low_stock_when_at_or_below_threshold():
    assert [stock_state(n) for n in (0, 1, 5, 6)] == [
        StockState.OUT_OF_STOCK,
        StockState.LOW_STOCK,
        StockState.LOW_STOCK,
        StockState.IN_STOCK,
    ]


def test_plan_uses_one_location_when_it_holds_the_whole_basket():
    locations = [
        _loc(1, {10: 5}, priority=1),  # first by priority but lacks SKU 11
        _loc(2, {10: 5, 11: 5}, priority=5),
        _loc(3, {10: 5, 11: 5}, priority=9),
    ]

    plan = _ship([(10, 2), (11, 1)], locations)

    assert plan.complete
    assert _shipments(plan) == [(2, [(10, 2), (11, 1)])]


def test_plan_breaks_priority_ties_by_distance_when_city_is_known():
    locations = [
        _loc(1, {10: 5}, priority=5, at=GUANGZHOU),
        _loc(2, {10: 5}, priority=5, at=BEIJING),
        _loc(3, {10: 5}, priority=9, at=SHANGHAI),
    ]

    assert _shipments(_ship([(10, 1)], locations, origin=BEIJING)) == [(2, [(10, 1)])]
    assert _shipments(_ship([(10, 1)], locations, origin=GUANGZHOU)) == [(1, [(10, 1)])]
    # Priority comes before distance: Shanghai (priority 9) never wins here.
    assert _shipments(_ship([(10, 1)], locations, origin=SHANGHAI))[0][0] in (1, 2)


def test_nearest_first_strategy_prefers_distance_over_priority():
    locations = [
        _loc(1, {10: 5}, priority=1, at=BEIJING),
        _loc(2, {10: 5}, priority=9, at=SHANGHAI),
    ]

    plan = _ship([(10, 1)], locations, origin=SHANGHAI, strategy=strategy_for("stores"))

    assert _shipments(plan) == [(2, [(10, 1)])]


def test_plan_splits_into_fewest_shipments_when_no_location_holds_everything():
    locations = [
        _loc(1, {10: 3}, priority=1),
        _loc(2, {11: 3}, priority=2),
        _loc(3, {10: 3, 11: 2}, priority=3),
        _loc(4, {12: 1}, priority=4),
    ]

    plan = _ship([(10, 3), (11, 3), (12, 1)], locations)

    assert plan.complete
    assert len(plan.shipments) == 3
    assert plan.allocated() == {(1, 10): 3, (2, 11): 3, (4, 12): 1}


def test_plan_splits_one_line_over_locations_when_none_has_enough():
    locations = [_loc(1, {10: 2}, priority=1), _loc(2, {10: 2}, priority=2)]

    plan = _ship([(10, 3)], locations)

    assert plan.allocated() == {(1, 10): 2, (2, 10): 1}


def test_plan_reports_shortage_and_serves_the_rest_when_a_line_cannot_be_covered():
    locations = [_loc(1, {10: 2, 11: 4}), _loc(2, {10: 1}, can_ship=False)]

    plan = _ship([(10, 3), (11, 1), (10, 0)], locations)

    assert not plan.complete
    assert [(s.sku_id, s.requested, s.available) for s in plan.shortages] == [(10, 3, 2)]
    assert _shipments(plan) == [(1, [(11, 1)])]


def test_plan_merges_lines_of_the_same_sku():
    plan = _ship([(10, 1), (10, 2)], [_loc(1, {10: 3})])

    assert _shipments(plan) == [(1, [(10, 3)])]


def test_pickup_takes_everything_from_the_chosen_store_only():
    warehouse = _loc(1, {10: 50, 11: 50})
    store = _store(2, {10: 2, 11: 0})
    request = AllocationRequest(
        lines=(BasketLine(10, 2), BasketLine(11, 1)), method=DeliveryMethod.PICKUP, store_id=2
    )

    plan = FewestShipmentsStrategy().plan(request, [warehouse, store])

    assert _shipments(plan) == [(2, [(10, 2)])]
    assert [(s.sku_id, s.location_id, s.available) for s in plan.shortages] == [(11, 2, 0)]


def test_pickup_is_all_shortage_when_store_is_unknown_or_offers_no_pickup():
    warehouse = _loc(1, {10: 50})
    request = AllocationRequest(
        lines=(BasketLine(10, 1),), method=DeliveryMethod.PICKUP, store_id=1
    )

    plan = FewestShipmentsStrategy().plan(request, [warehouse])

    assert plan.shipments == ()
    assert [(s.sku_id, s.available) for s in plan.shortages] == [(10, 0)]


def test_stores_serving_basket_lists_only_stores_with_everything_nearest_first():
    stores = [
        _store(1, {10: 5, 11: 5}, at=BEIJING),
        _store(2, {10: 5, 11: 5}, at=SHANGHAI),
        _store(3, {10: 5}, at=SHANGHAI),  # lacks 11
        _loc(4, {10: 99, 11: 99}, at=SHANGHAI),  # a warehouse: no pick-up
        _store(5, {10: 5, 11: 5}, at=None),
    ]
    lines = [BasketLine(10, 2), BasketLine(11, 5)]

    found = stores_serving_basket(lines, stores, origin=SHANGHAI)

    assert [s.location_id for s in found] == [2, 1, 5]


def test_strategy_for_falls_back_to_default_and_accepts_registered_strategies():
    warehouses_only = FewestShipmentsStrategy(ship_from=frozenset({"warehouse"}))
    register_strategy("test-marketplace", warehouses_only)
    locations = [_store(1, {10: 5}, priority=1, can_ship=True), _loc(2, {10: 5}, priority=50)]

    assert strategy_for("no-such-channel") is strategy_for("online")
    assert _shipments(_ship([(10, 1)], locations, strategy=strategy_for("online"))) == [
        (1, [(10, 1)])
    ]
    plan = _ship([(10, 1)], locations, strategy=strategy_for("test-marketplace"))
    assert _shipments(plan) == [(2, [(10, 1)])]


def test_plan_splits_greedily_when_network_is_too_big_for_exact_search():
    # 40 locations each holding one SKU of a 30-line basket: the subsets are far too many.
    locations = [_loc(i, {100 + i % 30: 1}, priority=i) for i in range(40)]

    plan = _ship([(100 + n, 1) for n in range(30)], locations)

    assert plan.complete
    assert len(plan.shipments) == 30


# --- properties ----------------------------------------------------------------------------

SKUS = (1, 2, 3)


@st.composite
def scenarios(draw):
    count = draw(st.integers(min_value=1, max_value=5))
    locations = [
        _loc(
            i,
            {sku: draw(st.integers(0, 4)) for sku in SKUS},
            priority=draw(st.integers(1, 3)),
            can_ship=draw(st.booleans()) or i == 0,
            at=draw(st.sampled_from((None, SHANGHAI, BEIJING, GUANGZHOU))),
        )
        for i in range(count)
    ]
    lines = draw(
        st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 6)), min_size=1, max_size=4)
    )
    origin = draw(st.sampled_from((None, SHANGHAI, BEIJING)))
    return locations, lines, origin


def _min_shipments(lines, locations):
    """Brute force: the fewest shipping locations whose units together cover ``lines``."""
    need = {}
    for sku, q in lines:
        need[sku] = need.get(sku, 0) + q
    shipping = [loc for loc in locations if loc.can_ship]
    for size in range(1, len(shipping) + 1):
        for group in itertools.combinations(shipping, size):
            if all(sum(loc.units(sku) for loc in group) >= q for sku, q in need.items()):
                return size
    return None


@given(scenarios())
@settings(max_examples=300, deadline=None)
def test_plan_never_allocates_more_than_available_and_is_minimal_when_coverable(scenario):
    locations, lines, origin = scenario
    by_id = {loc.location_id: loc for loc in locations}

    plan = _ship(lines, locations, origin=origin)

    for (location_id, sku), units in plan.allocated().items():
        assert by_id[location_id].can_ship
        assert 0 < units <= by_id[location_id].units(sku)
    requested = {}
    for sku, q in lines:
        requested[sku] = requested.get(sku, 0) + q
    served = {}
    for (_location_id, sku), units in plan.allocated().items():
        served[sku] = served.get(sku, 0) + units
    short = {s.sku_id for s in plan.shortages}
    for sku, q in requested.items():
        assert served.get(sku, 0) == (0 if sku in short else q)
    minimum = _min_shipments(lines, locations)
    if minimum is not None:
        assert plan.complete
        assert len(plan.shipments) == minimum
    else:
        assert not plan.complete


@given(scenarios(), st.integers(0, 4))
@settings(max_examples=200, deadline=None)
def test_pickup_plan_uses_only_the_chosen_store_and_never_exceeds_it(scenario, store_id):
    locations, lines, _origin = scenario
    stores = [_store(loc.location_id, dict(loc.available), at=loc.coordinates) for loc in locations]
    request = AllocationRequest(
        lines=tuple(BasketLine(s, q) for s, q in lines),
        method=DeliveryMethod.PICKUP,
        store_id=store_id,
    )

    plan = FewestShipmentsStrategy().plan(request, stores)

    assert {s.location_id for s in plan.shipments} <= {store_id}
    for (location_id, sku), units in plan.allocated().items():
        assert units <= stores[location_id].units(sku)
    serving = stores_serving_basket(request.lines, stores, origin=None)
    assert (store_id in {s.location_id for s in serving}) == plan.complete
