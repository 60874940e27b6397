"""Delivery fees on the bag and checkout pages: an estimate in the bag, the ship-to
province's rate at checkout, shown before anything is charged."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from omnimall.checkout.models import CartState
from omnimall.checkout.services import addresses
from omnimall.orders.models import Order
from tests.checkout.conftest import ADDRESS, make_zone
from tests.checkout.test_pages import HX, add, checkout_form, session_cart

pytestmark = pytest.mark.django_db


@pytest.fixture
def zones(shop):
    make_zone("偏远地区", ["XJ", "XZ"], name_en="Remote regions")
    make_zone("港澳台", ["HK", "MO", "TW"], fee="0.00", free_from=None, delivers=False)


def shipping_line(html: str) -> str:
    start = html.index('data-role="shipping"')
    return html[start : html.index("</dd>", start)]


def test_the_bag_shows_delivery_as_an_estimate_at_the_default_rate(shop, zones, client):
    add(client, shop.tee_s, 1)

    html = client.get("/cart/").content.decode()

    assert "Delivery (estimate)" in html
    assert "¥10" in shipping_line(html)
    assert "checkout shows the fee for your province" in html
    assert 'href="/help/delivery/"' in html


def test_checkout_page_without_an_address_says_the_fee_is_an_estimate(shop, zones, client):
    add(client, shop.tee_s, 1)

    html = client.get("/checkout/").content.decode()

    assert "estimate" in shipping_line(html)
    assert 'name="shipping_quoted" value="10.00"' in html
    assert 'list="province-list"' in html
    assert '<option value="新疆维吾尔自治区" label="Xinjiang"></option>' in html


def test_checkout_page_shows_the_remote_fee_after_the_province_is_given(shop, zones, client):
    add(client, shop.tee_s, 3)  # ¥147: free by the default rate

    response = client.post("/checkout/", checkout_form(province="新疆", action="quote"), **HX)

    html = response.content.decode()
    assert "Delivery to Xinjiang" in html
    assert "¥20" in shipping_line(html)
    assert "estimate" not in shipping_line(html)
    assert 'name="shipping_quoted" value="20.00"' in html
    assert "¥167" in html
    assert not Order.objects.exists()


def test_paying_with_a_fee_the_page_did_not_show_shows_it_first(shop, zones, client):
    add(client, shop.tee_s, 3)

    first = client.post(
        "/checkout/", checkout_form(province="新疆", shipping_quoted="0.00")
    )  # the page said free (the default rate); 新疆 costs ¥20
    second = client.post("/checkout/", checkout_form(province="新疆", shipping_quoted="20.00"))

    assert first.status_code == 200
    assert "Delivery to Xinjiang costs ¥20: the total is updated." in first.content.decode()
    assert second.status_code == 302, second.content.decode()[:2000]
    order = Order.objects.get()
    assert order.shipping == Decimal("20.00")
    assert order.total == Decimal("167.00")


def test_paying_for_a_cheaper_fee_than_shown_goes_ahead(shop, zones, client):
    add(client, shop.tee_s, 1)

    response = client.post("/checkout/", checkout_form(shipping_quoted="20.00"))

    assert response.status_code == 302
    assert Order.objects.get().shipping == Decimal("10.00")


def test_a_region_not_delivered_is_a_form_error_and_nothing_is_placed(shop, zones, client):
    add(client, shop.tee_s, 1)

    response = client.post("/checkout/", checkout_form(province="香港", shipping_quoted="0.00"))

    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["form"].errors["province"] == [
        "Sorry, we do not deliver to 香港. Choose another address, or pick up in store."
    ]
    assert "Not delivered" in shipping_line(html)
    assert not Order.objects.exists()
    assert session_cart(client).state == CartState.OPEN


def test_an_unknown_province_is_a_form_error(shop, zones, client):
    add(client, shop.tee_s, 1)

    response = client.post("/checkout/", checkout_form(province="Atlantis"))

    assert response.context["form"].errors["province"] == [
        "Enter a province, region or municipality of China, e.g. 浙江省 or Zhejiang."
    ]
    assert not Order.objects.exists()


def test_a_saved_remote_address_is_priced_when_the_page_opens(shop, zones, shopper):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(shopper)
    saved = addresses.save_address(user=shopper, data={**ADDRESS, "province": "西藏自治区"})
    add(client, shop.tee_s, 1)

    html = client.get("/checkout/").content.decode()
    response = client.post(
        "/checkout/",
        checkout_form(
            saved_address=str(saved.pk),
            province="",
            city="",
            district="",
            street="",
            shipping_quoted="20.00",
        ),
    )

    assert "Delivery to Tibet" in html
    assert "¥20" in shipping_line(html)
    assert response.status_code == 302
    assert Order.objects.get().shipping == Decimal("20.00")


def test_a_saved_address_not_delivered_to_says_so_on_the_saved_address(shop, zones, shopper):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(shopper)
    saved = addresses.save_address(user=shopper, data={**ADDRESS, "province": "澳门"})
    add(client, shop.tee_s, 1)

    response = client.post(
        "/checkout/",
        checkout_form(saved_address=str(saved.pk), province="", city="", district="", street=""),
    )

    assert response.status_code == 200
    assert "we do not deliver to 澳门" in " ".join(response.context["form"].errors["saved_address"])
    assert not Order.objects.exists()


def test_pickup_is_free_on_the_page_whatever_the_province(shop, zones, client):
    add(client, shop.tee_s, 1)

    response = client.post(
        "/checkout/",
        checkout_form(delivery_method="pickup", store="sh-1", province="新疆", action="quote"),
    )

    assert "Free" in shipping_line(response.content.decode())
    assert "Delivery to Xinjiang" not in response.content.decode()
