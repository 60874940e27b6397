"""A shopper moves a paid pick-up to another store in a real browser: from the order page,
a store that holds it all chosen from the list, and the order page shows the new store
with the same pick-up code."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from omnimall.inventory import services as inventory
from tests.inventory.factories import make_pickup_store
from tests.orders.factories import ACTOR, make_shop, pay, place

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_outbox_delivery(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


def test_shopper_moves_a_pick_up_to_a_store_that_holds_it_all(live_server, page):
    shop = make_shop(units=10)
    west = make_pickup_store(
        "sh-west",
        name_en="West Nanjing Road Store",
        name_zh="南京西路店",
        address="8 West Nanjing Road",
        latitude=Decimal("31.2304"),
        longitude=Decimal("121.4590"),
    )
    for sku in shop.skus:
        inventory.receive_stock(location_id=west.pk, sku_id=sku.pk, quantity=5, actor=ACTOR)
    order = pay(place(shop, method="pickup").order_id)
    detail = f"{live_server.url}/orders/{order.number}/?token={order.guest_token}"

    page.goto(detail)
    page.locator("a", has_text="Change the pick-up store").click()
    page.wait_for_url(re.compile(rf"/orders/{order.number}/store/"))
    choice = page.locator(".store-choice", has_text="West Nanjing Road Store")
    assert "8 West Nanjing Road" in choice.inner_text()
    page.locator("button", has_text="Pick up here").click()
    assert "Choose a store." in page.locator(".form-errors").inner_text()  # none chosen
    page.locator(".store-choice", has_text="West Nanjing Road Store").click()
    page.locator("button", has_text="Pick up here").click()
    page.wait_for_url(re.compile(rf"/orders/{order.number}/\?token="))

    side = page.locator(".order-side").inner_text()
    assert "West Nanjing Road Store" in side
    assert "8 West Nanjing Road" in side
    assert "will be picked up at the new store" in page.content()
    assert order.pickup_code in page.locator(".pickup-code").inner_text()
