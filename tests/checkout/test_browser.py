"""The bag and checkout in a real browser (Playwright driving Chromium)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from omnimall.orders.models import Order
from tests.checkout.conftest import make_zone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_add_two_skus_and_check_out_with_pickup_in_store(live_server, page, shop):
    page.goto(f"{live_server.url}/p/{shop.tee.slug}/?sku={shop.tee_s.code}")
    form = page.locator("form.add-to-cart")
    form.locator("select[name=quantity]").select_option("2")
    form.locator("button[type=submit]").click()
    page.locator(".add-ok").wait_for()
    page.locator(".cart-count", has_text="2").wait_for()

    page.goto(f"{live_server.url}/p/{shop.shirt.slug}/")
    page.locator("form.add-to-cart button[type=submit]").click()
    page.locator(".cart-count", has_text="3").wait_for()

    page.goto(f"{live_server.url}/cart/")
    assert page.locator(".cart-line").count() == 2
    page.locator("a", has_text="Check out").click()
    page.wait_for_url("**/checkout/")
    page.fill("#id_name", "李雷")
    page.fill("#id_email", "lilei@example.com")
    page.fill("#id_phone", "13800138000")
    page.check("#method-pickup")
    assert page.locator(".ship-fields").is_hidden()
    page.fill("#id_store_city", "Shanghai")
    page.locator("#store-picker input[value='sh-1']").wait_for()
    page.check("#store-picker input[value='sh-1']")
    page.locator("button[name=action][value=pay]").click()
    page.wait_for_url("**/payments/**")

    order = Order.objects.get()
    assert order.state == "pending_payment"
    assert order.delivery_method == "pickup"
    assert order.pickup_store_id == shop.store_sh.pk
    assert order.total == 2 * 49 + 299


def test_a_store_picked_while_the_city_is_being_typed_stays_picked(live_server, page, shop):
    page.goto(f"{live_server.url}/p/{shop.tee.slug}/?sku={shop.tee_s.code}")
    page.locator("form.add-to-cart button[type=submit]").click()
    page.locator(".cart-count", has_text="1").wait_for()
    page.goto(f"{live_server.url}/checkout/")
    page.fill("#id_name", "李雷")
    page.fill("#id_email", "lilei@example.com")
    page.fill("#id_phone", "13800138000")
    page.check("#method-pickup")
    assert page.locator("#store-picker input[name=store]:checked").count() == 0  # no city yet

    page.fill("#id_store_city", "Beijing")
    page.locator("#store-picker li").first.wait_for()
    page.check("#store-picker input[value='sh-1']")  # leaving the city box: no redraw
    page.wait_for_timeout(1000)  # past the city box's 400 ms and its request
    assert page.locator("#store-picker input[value='sh-1']").is_checked()
    page.locator("button[name=action][value=pay]").click()
    page.wait_for_url("**/payments/**")

    assert Order.objects.get().pickup_store_id == shop.store_sh.pk


def test_the_invoice_fields_show_when_asked_for_and_the_tax_id_for_a_company(
    live_server, page, shop
):
    page.goto(f"{live_server.url}/p/{shop.tee.slug}/?sku={shop.tee_s.code}")
    page.locator("form.add-to-cart button[type=submit]").click()
    page.locator(".cart-count", has_text="1").wait_for()
    page.goto(f"{live_server.url}/checkout/")
    page.fill("#id_name", "李雷")
    page.fill("#id_email", "lilei@example.com")
    page.fill("#id_phone", "13800138000")
    page.fill("#id_province", "上海市")
    page.fill("#id_city", "上海")
    page.fill("#id_district", "黄浦区")
    page.fill("#id_street", "南京东路 100 号")

    assert page.locator("#id_invoice-title").is_hidden()  # no invoice asked for yet
    page.check("#id_want_invoice")
    assert page.locator("#id_invoice-title").is_visible()
    assert page.locator("#id_invoice-tax_id").is_hidden()  # a person has no taxpayer ID
    page.check("#invoice-company")
    page.fill("#id_invoice-title", "北风贸易有限公司")
    page.fill("#id_invoice-tax_id", "91110000600037341L")
    page.locator("button[name=action][value=pay]").click()
    page.wait_for_url("**/payments/**")

    invoice = Order.objects.get().invoice
    assert (invoice.kind, invoice.tax_id) == ("company", "91110000600037341L")


def test_the_delivery_line_follows_the_province_before_paying(live_server, page, shop):
    make_zone("偏远地区", ["XJ"], name_en="Remote regions")
    make_zone("港澳台", ["HK"], fee="0.00", free_from=None, delivers=False)
    page.goto(f"{live_server.url}/p/{shop.tee.slug}/?sku={shop.tee_s.code}")
    page.locator("form.add-to-cart button[type=submit]").click()
    page.locator(".cart-count", has_text="1").wait_for()
    page.goto(f"{live_server.url}/checkout/")
    shipping = page.locator(".checkout-summary [data-role=shipping]")
    assert "estimate" in shipping.inner_text()
    page.fill("#id_name", "李雷")
    page.fill("#id_email", "lilei@example.com")
    page.fill("#id_phone", "13800138000")

    page.fill("#id_province", "香港")
    page.fill("#id_city", "香港")  # leaving the province box: the summary is redrawn
    page.locator(".checkout-summary [data-role=shipping]", has_text="Not delivered").wait_for()
    page.fill("#id_province", "新疆维吾尔自治区")
    page.fill("#id_city", "乌鲁木齐市")
    page.locator(".checkout-summary [data-role=shipping]", has_text="¥20").wait_for()
    assert page.locator(".checkout-summary dt", has_text="Delivery to Xinjiang").is_visible()
    assert page.locator(".checkout-summary dd.cart-total").inner_text() == "¥69"
    page.fill("#id_district", "天山区")
    page.fill("#id_street", "解放南路 1 号")
    page.locator("button[name=action][value=pay]").click()
    page.wait_for_url("**/payments/**")

    order = Order.objects.get()
    assert (order.shipping, order.total) == (20, 69)


@pytest.mark.parametrize(("lang", "width"), [("en", 375), ("en", 360), ("zh-hans", 375)])
def test_the_phone_header_keeps_menu_logo_account_bag_and_language_on_one_row(
    live_server, page, shop, lang, width
):
    email = "header@example.com"
    get_user_model().objects.create_user(username=email, email=email, password="pw-12345678")
    page.set_viewport_size({"width": width, "height": 812})
    page.context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    page.goto(f"{live_server.url}/account/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", "pw-12345678")
    page.locator("form button[type=submit]", has_text="Sign in" if lang == "en" else "登录").click()
    page.goto(f"{live_server.url}/p/{shop.tee.slug}/?sku={shop.tee_s.code}")
    page.locator("form.add-to-cart button[type=submit]").click()
    page.locator(".cart-count", has_text="1").wait_for()
    page.locator(".account-link").wait_for()

    tops = {
        selector: page.locator(selector).bounding_box()["y"]
        for selector in (".mobile-menu", ".header-bar .logo", ".header-shopper", ".lang-switch")
    }

    assert max(tops.values()) - min(tops.values()) < 20, tops
    assert page.evaluate("document.documentElement.scrollWidth") == width
