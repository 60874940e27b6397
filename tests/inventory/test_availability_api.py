"""GET /api/v1/products/{slug}/availability and the allocation selectors behind it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnimall.core.errors import ValidationFailedError
from omnimall.inventory import services
from omnimall.inventory.domain import BasketLine, DeliveryMethod
from omnimall.inventory.errors import InvalidQuantityError, StockLocationNotFoundError
from omnimall.inventory.models import LocationKind
from omnimall.inventory.selectors.allocation import (
    list_pickup_stores,
    plan_allocation,
    product_availability,
)
from tests.catalog.factories import make_category, make_product
from tests.inventory.factories import STOCK_ACTOR, make_location

pytestmark = pytest.mark.django_db


def _at(lat, lng):
    return {"latitude": Decimal(lat), "longitude": Decimal(lng)}


@pytest.fixture
def network():
    """A Shanghai warehouse, a shipping store in Beijing, and three pick-up stores."""
    return {
        "wh": make_location("wh", priority=10, city="Shanghai", **_at("31.235", "121.24")),
        "bj": make_location(
            "bj-store",
            kind=LocationKind.STORE,
            priority=100,
            city="Beijing",
            can_ship=True,
            offers_pickup=True,
            name_en="Beijing Sanlitun",
            name_zh="北京三里屯店",
            address="三里屯路19号",
            opening_hours="10:00-22:00",
            **_at("39.936", "116.455"),
        ),
        "sh": make_location(
            "sh-store",
            kind=LocationKind.STORE,
            priority=100,
            city="Shanghai",
            can_ship=False,
            offers_pickup=True,
            name_en="Shanghai Xintiandi",
            name_zh="上海新天地店",
            **_at("31.2195", "121.475"),
        ),
        "xa": make_location(
            "xa-store",
            kind=LocationKind.STORE,
            city="Xianyang",  # not in the city table: placed by its stores
            can_ship=False,
            offers_pickup=True,
            **_at("34.33", "108.70"),
        ),
        "closed": make_location(
            "closed", kind=LocationKind.STORE, offers_pickup=True, is_active=False
        ),
    }


@pytest.fixture
def tee():
    category = make_category("avail-tees")
    return make_product(
        category=category,
        slug="avail-tee",
        name_en="Avail Tee",
        variants=(("S", "black", "99.00"), ("M", "black", "99.00"), ("L", "white", "99.00")),
    )


def _receive(location, sku, quantity):
    services.receive_stock(
        location_id=location.pk, sku_id=sku.pk, quantity=quantity, actor=STOCK_ACTOR
    )


@pytest.fixture
def stocked(network, tee):
    small, medium, large = tee.skus.order_by("position")
    _receive(network["wh"], small, 40)
    _receive(network["bj"], small, 3)
    _receive(network["sh"], small, 2)
    _receive(network["wh"], medium, 4)
    _receive(network["xa"], medium, 9)
    _receive(network["closed"], medium, 50)
    # Large: nothing anywhere.
    services.set_safety_stock(
        location_id=network["sh"].pk, sku_id=small.pk, safety_stock=1, actor=STOCK_ACTOR
    )
    return small, medium, large


def _sku(body, code):
    return next(s for s in body["skus"] if s["sku"] == code)


def test_availability_api_shows_delivery_and_stores_nearest_first_when_city_known(
    client, network, stocked
):
    small, medium, large = stocked

    response = client.get(
        "/api/v1/products/avail-tee/availability?city=上海", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["product"] == "avail-tee"
    assert body["city"] == {"name": "Shanghai", "name_en": "Shanghai", "name_zh": "上海"}
    s = _sku(body, small.code)
    assert (s["size"], s["colour"]) == ("S", "black")
    assert s["delivery"] == {"state": "in_stock", "available": 43}
    assert [(st["code"], st["state"], st["available"]) for st in s["stores"]] == [
        ("sh-store", "low_stock", 1),
        ("bj-store", "low_stock", 3),
        ("xa-store", "out_of_stock", 0),
    ]
    assert s["stores"][0]["distance_km"] < 5
    assert s["stores"][1]["distance_km"] == pytest.approx(1070, abs=20)
    assert s["stores"][1]["name"] == "Beijing Sanlitun"
    assert s["stores"][1]["opening_hours"] == "10:00-22:00"
    assert s["pickup"] == {"store_count": 2, "nearby_store_count": 1}
    m = _sku(body, medium.code)
    assert m["delivery"] == {"state": "low_stock", "available": 4}  # the store ships nothing
    assert m["pickup"] == {"store_count": 1, "nearby_store_count": 0}
    large_out = _sku(body, large.code)
    assert large_out["delivery"] == {"state": "out_of_stock", "available": 0}
    assert all(st["state"] == "out_of_stock" for st in large_out["stores"])


def test_availability_api_names_stores_in_chinese_when_asked_in_chinese(client, stocked):
    body = client.get(
        "/api/v1/products/avail-tee/availability?city=Beijing", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()

    first = body["skus"][0]["stores"][0]
    assert (first["code"], first["name"]) == ("bj-store", "北京三里屯店")
    assert body["city"]["name"] == "北京"


def test_availability_api_places_unlisted_city_by_its_stores(client, stocked):
    body = client.get("/api/v1/products/avail-tee/availability?city=xianyang").json()

    assert body["city"]["name_en"] == "Xianyang"
    assert body["skus"][0]["stores"][0]["code"] == "xa-store"
    assert body["skus"][0]["stores"][0]["distance_km"] == 0


@pytest.mark.parametrize("city", ["", "Atlantis", "%00%01", "'; drop table x;--", "上海" * 30])
def test_availability_api_ignores_city_it_cannot_place(client, stocked, city):
    response = client.get(f"/api/v1/products/avail-tee/availability?city={city}")

    assert response.status_code == 200
    body = response.json()
    assert body["city"] is None
    stores = body["skus"][0]["stores"]
    assert all(s["distance_km"] is None for s in stores)
    assert body["skus"][0]["pickup"]["nearby_store_count"] is None


def test_availability_api_refuses_overlong_city_with_422(client, stocked):
    response = client.get("/api/v1/products/avail-tee/availability?city=" + "x" * 61)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"
    documented = client.get("/api/v1/openapi.json").json()["paths"]
    responses = documented["/api/v1/products/{slug}/availability"]["get"]["responses"]
    assert "422" in responses  # it was not: found by fuzzing the API (tests/core)


@pytest.mark.parametrize("slug", ["no-such-product", "x" * 300, "%00"])
def test_availability_api_answers_404_json_when_product_unknown(client, slug):
    response = client.get(f"/api/v1/products/{slug}/availability")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_availability_api_counts_only_live_holds(client, network, stocked):
    small, _medium, _large = stocked
    services.reserve_stock(location_id=network["bj"].pk, sku_id=small.pk, quantity=3)

    body = client.get("/api/v1/products/avail-tee/availability").json()

    s = _sku(body, small.code)
    assert s["delivery"]["available"] == 40
    assert next(st for st in s["stores"] if st["code"] == "bj-store")["state"] == "out_of_stock"


def test_product_availability_uses_two_queries_whatever_the_skus(
    stocked, django_assert_num_queries
):
    with django_assert_num_queries(2):
        found = product_availability(sku_ids=[s.pk for s in stocked], city="Shanghai")
    with django_assert_num_queries(2):  # the channel's rules are read with the levels
        product_availability(sku_ids=[s.pk for s in stocked], channel_code="online")

    assert len(found.skus) == 3


def test_availability_leaves_out_what_the_storefront_channel_keeps_back(client, network, stocked):
    small, _medium, _large = stocked
    services.set_channel_safety_stock(
        channel_code="online", location_id=network["bj"].pk, units=2, actor=STOCK_ACTOR
    )

    body = client.get("/api/v1/products/avail-tee/availability").json()
    plan = plan_allocation(lines=[BasketLine(small.pk, 42)], method="ship")
    in_store = plan_allocation(
        lines=[BasketLine(small.pk, 42)], method="ship", channel_code="stores"
    )

    s = _sku(body, small.code)
    assert s["delivery"]["available"] == 41
    assert next(st for st in s["stores"] if st["code"] == "bj-store")["available"] == 1
    assert [(x.sku_id, x.available) for x in plan.shortages] == [(small.pk, 41)]
    assert in_store.complete  # the stores channel keeps nothing back


def test_plan_allocation_ships_from_warehouse_then_splits_when_needed(network, stocked):
    small, medium, _large = stocked

    one = plan_allocation(lines=[BasketLine(small.pk, 5), BasketLine(medium.pk, 2)], method="ship")
    split = plan_allocation(lines=[BasketLine(small.pk, 42)], method="ship", city="Beijing")

    assert [(s.location_id, len(s.lines)) for s in one.shipments] == [(network["wh"].pk, 2)]
    assert one.complete
    assert split.allocated() == {
        (network["wh"].pk, small.pk): 40,
        (network["bj"].pk, small.pk): 2,
    }


def test_plan_allocation_reports_shortage_when_nothing_ships(network, stocked):
    _small, _medium, large = stocked

    plan = plan_allocation(lines=[BasketLine(large.pk, 1)], method=DeliveryMethod.SHIP)

    assert not plan.complete
    assert [(s.sku_id, s.available) for s in plan.shortages] == [(large.pk, 0)]


def test_plan_allocation_picks_up_at_the_chosen_store_only(network, stocked):
    small, medium, _large = stocked

    plan = plan_allocation(
        lines=[BasketLine(small.pk, 1), BasketLine(medium.pk, 1)],
        method="pickup",
        store_id=network["sh"].pk,
    )

    assert plan.allocated() == {(network["sh"].pk, small.pk): 1}
    assert [(s.sku_id, s.location_id) for s in plan.shortages] == [(medium.pk, network["sh"].pk)]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"method": "pickup"}, ValidationFailedError),
        ({"method": "pickup", "store_id": 999_999}, StockLocationNotFoundError),
        ({"method": "drone"}, ValidationFailedError),
        ({"method": "ship", "lines": [BasketLine(1, 0)]}, InvalidQuantityError),
        ({"method": "ship", "lines": []}, InvalidQuantityError),
    ],
)
def test_plan_allocation_refuses_bad_input(network, stocked, kwargs, error):
    kwargs.setdefault("lines", [BasketLine(stocked[0].pk, 1)])

    with pytest.raises(error):
        plan_allocation(**kwargs)


def test_plan_allocation_refuses_a_warehouse_as_pickup_store(network, stocked):
    with pytest.raises(StockLocationNotFoundError):
        plan_allocation(
            lines=[BasketLine(stocked[0].pk, 1)], method="pickup", store_id=network["wh"].pk
        )


def test_list_pickup_stores_lists_stores_holding_the_whole_basket_nearest_first(network, stocked):
    small, _medium, _large = stocked

    near_beijing = list_pickup_stores(lines=[BasketLine(small.pk, 1)], city="Tianjin")
    two = list_pickup_stores(lines=[BasketLine(small.pk, 2)])

    assert [s.store.code for s in near_beijing] == ["bj-store", "sh-store"]
    assert near_beijing[0].distance_km == pytest.approx(110, abs=20)
    assert [s.store.code for s in two] == ["bj-store"]
    assert two[0].distance_km is None
