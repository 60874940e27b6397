"""Buying, end to end in a real browser (Playwright driving Chromium), nothing faked.

1. Search → two SKUs into the bag → checkout with pick-up in store → the sandbox bank's
   page → Pay. The bank's signed notification travels through the outbox as a real HTTP
   POST to the shop's notify URL; the order page the bank sends the shopper back to
   turns "paid" with its pick-up code on its own.
2. A delivery order, paid the same way, shipped by a WMS confirmation through the
   integration API, delivered by the carrier's confirmation, seen on the order page.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from omnimall.core import api_keys
from omnimall.core.actors import Actor
from omnimall.inventory import services as inventory
from omnimall.inventory.models import StockLevel
from omnimall.orders.models import Order
from omnimall.payments.models import EntryKind, PaymentEntry
from omnimall.search.services import rebuild_index
from tests.catalog.factories import BrandFactory, make_category, make_product
from tests.e2e.shoppers import make_shopper, sign_in
from tests.inventory.factories import make_location, make_pickup_store

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system("e2e")
EMAIL = "mei@example.com"
PASSWORD = "quiet-harbour-1987"


@pytest.fixture
def shop(settings):
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = True  # the bank's notification goes out for real
    tees = make_category("tees", name_en="Tees", name_zh="T恤")
    brand = BrandFactory(slug="northwind", name_en="Northwind", name_zh="北风")
    tee = make_product(
        category=tees,
        brand=brand,
        slug="cotton-tee",
        name_en="Cotton Tee",
        name_zh="纯棉T恤",
        variants=(("S", "black", "49.00"), ("M", "black", "49.00")),
    )
    warehouse = make_location("wh-e2e", city="Shanghai", priority=1)
    store = make_pickup_store("sh-e2e")
    for sku in tee.skus.all():
        for location in (warehouse, store):
            inventory.receive_stock(location_id=location.pk, sku_id=sku.pk, quantity=5, actor=ACTOR)
    rebuild_index()
    return tee, warehouse, store


def _add_to_bag_from_search(page, base: str, size: str) -> None:
    page.goto(base + "/")
    page.locator("#search-q").fill("cotton tee")
    page.locator("#search-q").press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q="))
    page.locator("main a", has_text="Cotton Tee").first.click()
    page.wait_for_url(re.compile(r"/p/cotton-tee/"))
    page.locator("a.size-option", has_text=size).click()
    page.wait_for_url(re.compile(r"sku="))
    # The add-to-bag form arrives in an HTMX fragment; clicking before HTMX has bound it
    # posts the plain form instead (seen on a loaded machine).
    page.wait_for_load_state("networkidle")
    page.locator("form.add-to-cart button[type=submit]").click()
    page.locator(".add-ok").wait_for(timeout=20_000)


def _contact(page) -> None:
    page.fill("#id_name", "Li Lei")
    page.fill("#id_email", "lilei@example.com")
    page.fill("#id_phone", "13800138000")


def _pay_at_the_bank(page) -> None:
    page.wait_for_url(re.compile(r"/payments/sandbox/pay/"))
    page.locator("button.bank-pay").click()
    page.wait_for_url(re.compile(r"/orders/\d{12}/"))


def test_search_two_skus_pickup_checkout_sandbox_pay_shows_paid_with_pickup_code(
    live_server, page, shop
):
    tee, _warehouse, store = shop
    base = live_server.url
    _add_to_bag_from_search(page, base, "S")
    _add_to_bag_from_search(page, base, "M")
    page.goto(base + "/cart/")
    assert page.locator(".cart-line").count() == 2
    page.locator("a", has_text="Check out").click()
    page.wait_for_url("**/checkout/")
    _contact(page)
    page.check("#method-pickup")
    page.fill("#id_store_city", "Shanghai")
    page.locator(f"#store-picker input[value='{store.code}']").check()
    page.locator("button[name=action][value=pay]").click()

    _pay_at_the_bank(page)

    code = page.locator(".pickup-code")
    code.wait_for(state="visible", timeout=20_000)
    order = Order.objects.get()
    assert order.state in ("paid", "allocated")
    assert code.inner_text().strip() == order.pickup_code
    assert "Nanjing Road Store" in page.locator(".pickup-card").inner_text()
    # A guest: the QR image is fetched with the order's token, and loads.
    image = page.locator("img.pickup-qr")
    assert image.get_attribute("alt") == f"QR code of pick-up code {order.pickup_code}"
    page.wait_for_function("document.querySelector('img.pickup-qr').complete")
    assert image.evaluate("img => img.naturalWidth") == 150
    assert order.amount_paid == order.total == Decimal("98.00")
    assert PaymentEntry.objects.filter(kind=EntryKind.CAPTURE).count() == 1
    held = StockLevel.objects.filter(location=store, sku__product=tee)
    assert sorted(held.values_list("reserved", flat=True)) == [1, 1]


def test_delivery_order_paid_shipped_by_wms_api_and_delivered(live_server, page, shop):
    tee, warehouse, _store = shop
    base = live_server.url
    _add_to_bag_from_search(page, base, "M")
    page.goto(base + "/checkout/")
    _contact(page)
    page.check("#method-ship")
    for field, value in {
        "province": "上海市",
        "city": "上海",
        "district": "黄浦区",
        "street": "南京东路 100 号",
    }.items():
        page.fill(f"[name={field}]", value)
    page.locator("button[name=action][value=pay]").click()
    _pay_at_the_bank(page)
    page.locator("#order-status", has_text="Paid").wait_for(timeout=20_000)
    order = Order.objects.get()

    wms = Client(HTTP_X_API_KEY=_wms_key(warehouse.code))
    listed = wms.get(f"/api/v1/inventory/fulfilment-requests?location={warehouse.code}")
    assert listed.status_code == 200, listed.content
    (request,) = listed.json()["results"]
    shipped = wms.post(
        "/api/v1/inventory/shipments",
        {"request": request["number"], "carrier": "SF Express", "tracking_number": "SF1234567890"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="ship-1",
    )
    assert shipped.status_code in (200, 201), shipped.content
    delivered = wms.post(
        f"/api/v1/orders/{order.number}/delivery", {}, content_type="application/json"
    )
    assert delivered.status_code == 200, delivered.content

    page.reload()
    assert "Delivered" in page.locator("#order-status").inner_text()
    assert "SF1234567890" in page.locator("main").inner_text()
    order.refresh_from_db()
    assert order.state == "delivered"
    level = StockLevel.objects.get(location=warehouse, sku__product=tee, sku__size="M")
    assert (level.on_hand, level.reserved) == (4, 0)


def _wms_key(location_code: str) -> str:
    return api_keys.create_api_key(
        name="wms-e2e", scopes=["wms"], actor=ACTOR, bound_to=location_code
    ).token


def test_checkout_shows_only_the_address_fields_it_needs(live_server, page, shop):
    """A returning shopper's saved address is chosen: the new address's fields stay
    hidden until "A new address" is picked; pick-up hides the delivery part altogether."""
    make_shopper(EMAIL, PASSWORD, with_address=True)
    base = live_server.url
    sign_in(page, base, email=EMAIL, password=PASSWORD)
    _add_to_bag_from_search(page, base, "M")
    page.goto(base + "/checkout/")

    assert page.locator(".saved-address input[type=radio]").first.is_checked()
    assert not page.locator("#id_province").is_visible()
    page.locator(".saved-address", has_text="A new address").click()
    assert page.locator("#id_province").is_visible()
    page.check("#method-pickup")
    assert not page.locator(".saved-addresses").is_visible()
