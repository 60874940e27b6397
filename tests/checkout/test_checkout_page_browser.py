"""The checkout page's summary redraw and error summary in a real browser (Playwright
driving Chromium)."""

from __future__ import annotations

import pytest

from omnimall.orders.models import Order
from tests.checkout.conftest import make_zone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def open_checkout(live_server, page, shop) -> None:
    page.goto(f"{live_server.url}/p/{shop.tee.slug}/?sku={shop.tee_s.code}")
    page.locator("form.add-to-cart button[type=submit]").click()
    page.locator(".cart-count", has_text="1").wait_for()
    page.goto(f"{live_server.url}/checkout/")


def is_summary_redraw(response) -> bool:
    return response.url.endswith("/checkout/") and response.request.method == "POST"


def test_a_new_province_redraws_the_summary_alone_with_its_fee(live_server, page, shop):
    make_zone("偏远地区", ["XJ"], name_en="Remote regions")
    open_checkout(live_server, page, shop)
    summary = page.locator(".checkout-summary")
    assert summary.locator("[data-role=shipping]").inner_text().startswith("¥10")
    page.fill("#id_name", "李雷")

    page.fill("#id_province", "新疆维吾尔自治区")
    with page.expect_response(is_summary_redraw) as redraw:
        page.fill("#id_city", "乌鲁木齐市")  # leaving the province box: the summary is redrawn
    summary.locator("[data-role=shipping]", has_text="¥20").wait_for()

    body = redraw.value.text()
    assert body.lstrip().startswith('<aside class="checkout-summary"')
    assert "<form" not in body
    assert summary.locator("dt", has_text="Delivery to Xinjiang").is_visible()
    assert summary.locator("dd.cart-total").inner_text() == "¥69"
    assert summary.locator("input[name=shipping_quoted]").input_value() == "20.00"
    assert page.locator(".checkout-summary").count() == 1
    assert page.input_value("#id_name") == "李雷"  # the rest of the page is as it was
    page.fill("#id_email", "lilei@example.com")
    page.fill("#id_phone", "13800138000")
    page.fill("#id_district", "天山区")
    page.fill("#id_street", "解放南路 1 号")
    page.locator("button[name=action][value=pay]").click()  # the redrawn summary's button
    page.wait_for_url("**/payments/**")
    assert Order.objects.get().shipping == 20


def test_a_refused_pay_focuses_the_error_summary_whose_links_lead_to_the_fields(
    live_server, page, shop
):
    open_checkout(live_server, page, shop)
    page.fill("#id_name", "李雷")
    page.fill("#id_phone", "12345")

    page.locator("button[name=action][value=pay]").click()
    error_summary = page.locator(".error-summary")
    error_summary.wait_for()

    assert page.locator("[role=alert]").count() == 1
    page.wait_for_function("document.activeElement.classList.contains('error-summary')")
    assert error_summary.get_by_role("heading").inner_text() == "There is a problem"
    error_summary.get_by_role("link", name="Mobile phone: Enter a mobile number").click()
    page.wait_for_function("document.activeElement.id === 'id_phone'")
    assert page.locator("#id_phone").get_attribute("aria-invalid") == "true"
    assert not Order.objects.exists()
