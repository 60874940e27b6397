"""Availability on the product page in a real browser (Playwright driving Chromium)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from omnimall.inventory import services
from omnimall.inventory.models import LocationKind
from tests.catalog.factories import BrandFactory, make_category, make_product
from tests.inventory.factories import STOCK_ACTOR, make_location

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stocked_product():
    category = make_category("shoes", name_en="Shoes", name_zh="鞋履")
    product = make_product(
        category=category,
        brand=BrandFactory(slug="northwind", name_en="Northwind", name_zh="北风"),
        slug="court-sneakers",
        name_en="Court Sneakers",
        name_zh="经典运动鞋",
        variants=(("40", "white", "599.00"), ("42", "white", "599.00")),
    )
    size_40, size_42 = product.skus.order_by("position")
    warehouse = make_location("wh", city="Shanghai", priority=1)
    stores = [
        make_location(
            code,
            kind=LocationKind.STORE,
            city=city,
            name_en=name,
            name_zh=name,
            can_ship=False,
            offers_pickup=True,
            latitude=Decimal(lat),
            longitude=Decimal(lng),
            opening_hours="10:00-22:00 daily",
        )
        for code, name, city, lat, lng in (
            ("sh-1", "Shanghai Xintiandi", "Shanghai", "31.2195", "121.475"),
            ("bj-1", "Beijing Sanlitun", "Beijing", "39.936", "116.455"),
        )
    ]
    for location, sku, units in (
        (warehouse, size_40, 20),
        (stores[0], size_40, 4),
        (stores[1], size_40, 9),
        (warehouse, size_42, 3),
        (stores[1], size_42, 1),
    ):
        services.receive_stock(
            location_id=location.pk, sku_id=sku.pk, quantity=units, actor=STOCK_ACTOR
        )
    return product


def test_availability_loads_follows_city_and_variant_when_javascript_is_on(
    live_server, page, stocked_product
):
    page.goto(live_server.url + "/p/court-sneakers/")

    box = page.locator("#availability")
    delivery = box.locator("[data-role=delivery]")
    delivery.wait_for()
    assert delivery.inner_text() == "In stock for delivery"
    assert box.locator("[data-role=pickup]").inner_text() == "Pick up today at 2 stores"

    # Choosing a city re-orders the stores nearest first, in place.
    box.locator("select[name=city]").select_option("Beijing")
    pickup = box.locator("[data-role=pickup]", has_text="near Beijing")
    pickup.wait_for()
    assert pickup.inner_text() == "Pick up today at 1 store near Beijing"
    assert box.locator(".store-name").first.inner_text() == "Beijing Sanlitun"
    assert page.url.endswith("/p/court-sneakers/")  # no navigation happened

    # Another size, picked in place: the fragment follows it and keeps the city.
    page.locator("[data-variant-picker] a[data-size='42']").click()
    page.wait_for_url(re.compile(r"sku=COURT-SNEAKERS-42-WHITE"))
    box.locator("[data-role=delivery]", has_text="Only 3 left").wait_for()
    assert box.locator("select[name=city]").input_value() == "Beijing"
    first_store = box.locator(".store").first
    assert first_store.locator(".store-name").inner_text() == "Beijing Sanlitun"
    assert first_store.locator(".store-state").inner_text() == "Only 1 left"


def test_availability_works_as_a_page_when_javascript_is_off(
    live_server, page_without_javascript, stocked_product
):
    page = page_without_javascript
    page.goto(live_server.url + "/p/court-sneakers/?sku=COURT-SNEAKERS-42-WHITE")
    page.locator("a.availability-link").click()
    page.wait_for_url(re.compile(r"/p/court-sneakers/availability/\?sku=COURT-SNEAKERS-42"))
    assert page.locator("[data-role=delivery-state]").inner_text() == "Only 3 left"

    page.locator("select[name=city]").select_option("Shanghai")
    page.locator(".city-picker button[type=submit]").click()
    page.wait_for_url(re.compile(r"city=Shanghai"))
    assert page.locator("[data-role=pickup]").inner_text() == (
        "No store near Shanghai has it today"
    )
    assert page.locator(".store-name").first.inner_text() == "Shanghai Xintiandi"
