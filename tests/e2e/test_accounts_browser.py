"""A shopper's account in a real browser: sign up, save an address, watch an order page
wait for the payment confirmation and turn into the pick-up code, sign out and back in."""

from __future__ import annotations

import os
import re

import pytest
from django.contrib.auth import get_user_model

from tests.orders.factories import make_shop, pay, place

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "quiet-harbour-1987"
SCREENSHOTS = os.environ.get("OMNIMALL_TEST_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


@pytest.fixture(autouse=True)
def _no_outbox_delivery(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


def test_shopper_signs_up_saves_address_and_sees_order_paid_with_pickup_code(live_server, page):
    shop = make_shop(units=10)
    page.goto(live_server.url + "/account/signup/")
    page.fill("#id_email", "Mei@Example.com")
    page.fill("#id_name", "Lin Mei")
    page.fill("#id_phone", "13800138000")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    _shot(page, "signup")
    page.locator("form button[type=submit]", has_text="Create account").click()
    page.wait_for_url(re.compile(r"/account/$"))
    assert "Hello, Lin Mei" in page.locator("h1").inner_text()

    page.locator(".account-nav a", has_text="Addresses").click()
    page.locator("a.button", has_text="Add an address").click()
    for field, value in {
        "name": "Lin Mei",
        "phone": "13800138000",
        "province": "上海市",
        "city": "上海市",
        "district": "黄浦区",
        "street": "南京东路 1 号",
        "postal_code": "2000",
    }.items():
        page.fill(f"#id_{field}", value)
    page.locator("button", has_text="Save address").click()
    assert "6 digits" in page.locator(".address-form").inner_text()
    page.fill("#id_postal_code", "200001")
    page.locator("button", has_text="Save address").click()
    page.wait_for_url(re.compile(r"/account/addresses/$"))
    assert "南京东路 1 号" in page.locator(".address-list").inner_text()
    _shot(page, "addresses")

    user = get_user_model().objects.get(username="mei@example.com")
    placed = place(shop, method="pickup", user=user)
    page.goto(live_server.url + f"/orders/{placed.number}/")
    status = page.locator("#order-status")
    assert "Waiting for payment confirmation" in status.inner_text()
    _shot(page, "order-pending")

    pay(placed.order_id)  # the gateway's notification arrives while the page is open

    code = page.locator(".pickup-code")
    code.wait_for(state="visible", timeout=15_000)
    assert re.fullmatch(r"\w{4,8}", code.inner_text().strip())
    assert "Waiting for payment confirmation" not in page.locator("#order-status").inner_text()
    assert "10:00-22:00" in page.locator(".pickup-card").inner_text()
    # The code as a QR for the counter's scanner: loaded (the owner's session may fetch
    # it) and named by its alt text.
    image = page.locator("img.pickup-qr")
    image.wait_for(state="visible")
    assert image.get_attribute("alt") == f"QR code of pick-up code {code.inner_text().strip()}"
    page.wait_for_function("document.querySelector('img.pickup-qr').complete")
    assert image.evaluate("img => img.naturalWidth") == 150
    _shot(page, "order-paid")

    page.goto(live_server.url + "/account/orders/")
    assert f"{placed.number[:6]} {placed.number[6:]}" in page.locator(".order-table").inner_text()
    page.locator(".account-logout button").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + f"/orders/{placed.number}/")
    assert "We could not find that page" in page.content()

    page.goto(live_server.url + "/account/orders/")
    page.wait_for_url(re.compile(r"/account/login/\?next="))
    page.fill("#id_username", "MEI@example.com")
    page.fill("#id_password", PASSWORD)
    _shot(page, "login")
    page.locator("form button[type=submit]", has_text="Sign in").click()
    page.wait_for_url(re.compile(r"/account/orders/$"))
