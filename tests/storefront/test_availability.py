"""The product page's availability: a stock-free cached page plus an uncached fragment."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.cache import cache

from omnimall.inventory import services
from omnimall.inventory.models import LocationKind
from tests.inventory.factories import STOCK_ACTOR, make_location

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _store(code, city, lat, lng, **fields):
    return make_location(
        code,
        kind=LocationKind.STORE,
        city=city,
        can_ship=False,
        offers_pickup=True,
        latitude=Decimal(lat),
        longitude=Decimal(lng),
        name_en=fields.pop("name_en", code),
        name_zh=fields.pop("name_zh", code),
        address=f"{code} road 1",
        opening_hours="10:00-22:00 daily",
        **fields,
    )


@pytest.fixture
def stock(shop):
    warehouse = make_location("wh", city="Shanghai", priority=1)
    stores = {
        "sh": _store(
            "sh-1", "Shanghai", "31.2195", "121.475", name_en="Shanghai One", name_zh="上海一店"
        ),
        "sh2": _store("sh-2", "Shanghai", "31.2240", "121.448", name_en="Shanghai Two"),
        "bj": _store("bj-1", "Beijing", "39.936", "116.455", name_en="Beijing One"),
    }
    small, medium_black, medium_white = shop.tee.skus.order_by("position")

    def receive(location, sku, quantity):
        services.receive_stock(
            location_id=location.pk, sku_id=sku.pk, quantity=quantity, actor=STOCK_ACTOR
        )

    receive(warehouse, small, 30)
    receive(stores["sh"], small, 2)
    receive(stores["bj"], small, 7)
    receive(warehouse, medium_black, 3)
    # medium white: nothing anywhere
    return {"warehouse": warehouse, **stores, "skus": (small, medium_black, medium_white)}


def _text(response):
    return " ".join(response.content.decode().split())


def test_product_page_holds_no_stock_but_loads_the_fragment(client, stock):
    response = client.get("/p/cotton-tee/", HTTP_ACCEPT_LANGUAGE="en")

    html = _text(response)
    assert 'id="availability"' in html
    assert 'hx-get="/p/cotton-tee/availability/?sku=COTTON-TEE-S-BLACK"' in html
    assert 'hx-trigger="load"' in html
    assert 'href="/p/cotton-tee/availability/?sku=COTTON-TEE-S-BLACK"' in html  # without JS
    assert "In stock" not in html
    assert "Only" not in html
    assert "storefront/availability" in html  # the script that follows the variant picker


def test_fragment_shows_delivery_pickup_and_nearest_stores_when_city_chosen(client, stock):
    response = client.get(
        "/p/cotton-tee/availability/?sku=COTTON-TEE-S-BLACK&city=Shanghai",
        HTTP_ACCEPT_LANGUAGE="en",
        **HX,
    )

    assert response.status_code == 200
    html = _text(response)
    assert "<html" not in html
    assert "In stock" in html
    assert "Pick up today at 1 store near Shanghai" in html
    names = [line for line in ("Shanghai One", "Shanghai Two", "Beijing One") if line in html]
    assert names == ["Shanghai One", "Shanghai Two", "Beijing One"]
    assert html.index("Shanghai One") < html.index("Shanghai Two") < html.index("Beijing One")
    assert "Only 2 left" in html
    assert re.search(r'class="store-distance">[\d.]+ km<', html)
    assert '<option value="Shanghai" selected>' in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_fragment_counts_all_stores_and_says_only_n_left_when_stock_is_low(client, stock):
    html = _text(
        client.get(
            "/p/cotton-tee/availability/?sku=COTTON-TEE-M-BLACK", HTTP_ACCEPT_LANGUAGE="en", **HX
        )
    )

    assert "Only 3 left" in html
    assert "Not available for pick-up in store" in html


def test_fragment_says_out_of_stock_when_nothing_anywhere(client, stock):
    html = _text(
        client.get(
            "/p/cotton-tee/availability/?sku=COTTON-TEE-M-WHITE", HTTP_ACCEPT_LANGUAGE="en", **HX
        )
    )

    assert "Out of stock" in html
    assert "Pick up today" not in html


def test_fragment_without_city_counts_every_store_with_stock(client, stock):
    html = _text(client.get("/p/cotton-tee/availability/", HTTP_ACCEPT_LANGUAGE="en", **HX))

    assert "Pick up today at 2 stores" in html
    assert "store-distance" not in html  # no distances without a city


def test_fragment_speaks_chinese_when_language_is_chinese(client, stock):
    html = _text(
        client.get("/p/cotton-tee/availability/?city=上海", HTTP_ACCEPT_LANGUAGE="zh-hans", **HX)
    )

    assert "有货" in html
    assert "上海附近有 1 家门店今天可自提" in html
    assert "上海一店" in html
    assert "仅剩 2 件" in html


def test_availability_is_a_full_page_with_a_city_form_when_asked_without_htmx(client, stock):
    response = client.get(
        "/p/cotton-tee/availability/?sku=COTTON-TEE-S-BLACK&city=Beijing",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    html = _text(response)
    assert "<html" in html
    assert 'name="robots" content="noindex"' in html
    assert '<form class="city-picker" method="get" action="/p/cotton-tee/availability/"' in html
    assert '<input type="hidden" name="sku" value="COTTON-TEE-S-BLACK">' in html
    assert "Pick up today at 1 store near Beijing" in html
    assert 'href="/p/cotton-tee/?sku=COTTON-TEE-S-BLACK"' in html


def test_stock_change_shows_at_once_without_retiring_the_cached_page(
    client, stock, django_assert_max_num_queries
):
    small = stock["skus"][0]
    client.get("/p/cotton-tee/", HTTP_ACCEPT_LANGUAGE="en")
    before = _text(client.get("/p/cotton-tee/availability/", HTTP_ACCEPT_LANGUAGE="en", **HX))

    services.reserve_stock(location_id=stock["sh"].pk, sku_id=small.pk, quantity=2)

    with django_assert_max_num_queries(2):  # the page still comes from the page cache
        page = client.get("/p/cotton-tee/", HTTP_ACCEPT_LANGUAGE="en")
    after = _text(client.get("/p/cotton-tee/availability/", HTTP_ACCEPT_LANGUAGE="en", **HX))
    assert page.status_code == 200
    assert "Pick up today at 2 stores" in before
    assert "Pick up today at 1 store" in after


def test_fragment_stays_within_query_budget_when_cache_is_cold(
    client, stock, django_assert_max_num_queries
):
    cache.clear()

    with django_assert_max_num_queries(8):
        response = client.get("/p/cotton-tee/availability/?city=Shanghai", **HX)
    # Warm: the catalog version, then locations, channel rules and stock levels.
    with django_assert_max_num_queries(4):
        again = client.get("/p/cotton-tee/availability/?city=Beijing", **HX)

    assert response.status_code == 200
    assert again.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "?sku=NOPE&city=Atlantis",
        "?sku=%00&city=%00",
        "?city=" + "上海" * 100,
        "?sku=" + "x" * 500,
        "?city=<script>alert(1)</script>",
    ],
)
def test_fragment_copes_with_junk_input(client, stock, query):
    response = client.get("/p/cotton-tee/availability/" + query, HTTP_ACCEPT_LANGUAGE="en", **HX)

    assert response.status_code == 200
    assert "<script>alert" not in response.content.decode()


def test_fragment_answers_404_for_unknown_product(client, stock):
    assert client.get("/p/nope/availability/", **HX).status_code == 404
    assert client.get("/p/%00/availability/").status_code == 404
