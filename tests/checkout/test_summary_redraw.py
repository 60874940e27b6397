"""The checkout summary's redraw (HTMX, ``action=quote``): the server renders the summary
alone, and only what it needs, when the province, the saved address or the method
changes; the same post without JavaScript still gets the whole page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from omnimall.checkout.services import addresses
from omnimall.orders.models import Order
from tests.checkout.conftest import ADDRESS, make_zone
from tests.checkout.test_pages import HX, add, checkout_form

pytestmark = pytest.mark.django_db

# The redraw's queries: the session, the cart, its priced lines (with the zones' cache
# version) and their stock. A signed-in member's adds the user, the search for their cart
# (with its savepoint pair in a test), the saved addresses and the member's points. The
# page on top looks for the stores holding the bag and reads the header's categories.
GUEST_REDRAW_QUERIES = 4  # the page: 8
MEMBER_REDRAW_QUERIES = 10  # the page: 14


@pytest.fixture
def remote(shop):
    make_zone("偏远地区", ["XJ"], name_en="Remote regions")


def quoted(html: str) -> str:
    return re.search(r'name="shipping_quoted" value="([^"]*)"', html).group(1)


def templates(response) -> set[str]:
    return {t.name for t in response.templates}


def test_the_redraw_answers_the_summary_alone_with_the_provinces_fee(shop, remote, client):
    add(client, shop.tee_s, 1)

    response = client.post("/checkout/", checkout_form(province="新疆", action="quote"), **HX)

    html = response.content.decode()
    assert html.lstrip().startswith('<aside class="checkout-summary"')
    assert html.count("<aside") == 1
    assert "<form" not in html
    assert "store-picker" not in html
    assert "checkout/checkout.html" not in templates(response)
    assert "Delivery to Xinjiang" in html
    assert quoted(html) == "20.00"
    assert '<dd class="cart-total">¥69</dd>' in html
    assert 'name="action" value="pay"' in html
    assert not Order.objects.exists()


def test_the_same_quote_without_javascript_answers_the_whole_page(shop, remote, client):
    add(client, shop.tee_s, 1)

    response = client.post("/checkout/", checkout_form(province="新疆", action="quote"))

    html = response.content.decode()
    assert "checkout/checkout.html" in templates(response)
    assert '<form class="checkout-form"' in html
    assert 'id="store-picker"' in html
    assert quoted(html) == "20.00"
    assert not Order.objects.exists()


def test_pay_after_a_redraw_places_the_order_at_the_fee_the_redraw_showed(shop, remote, client):
    add(client, shop.tee_s, 1)
    page = client.get("/checkout/").content.decode()

    redrawn = client.post(
        "/checkout/",
        checkout_form(province="新疆", action="quote", shipping_quoted=quoted(page)),
        **HX,
    ).content.decode()
    paid = client.post(
        "/checkout/", checkout_form(province="新疆", shipping_quoted=quoted(redrawn))
    )

    assert quoted(page) == "10.00"
    assert paid.status_code == 302, paid.content.decode()[:2000]
    assert Order.objects.get().shipping == Decimal("20.00")


def test_pay_with_the_fee_from_before_the_redraw_asks_to_confirm_it(shop, remote, client):
    add(client, shop.tee_s, 1)
    page = client.get("/checkout/").content.decode()

    response = client.post(
        "/checkout/", checkout_form(province="新疆", shipping_quoted=quoted(page))
    )

    assert "Delivery to Xinjiang costs ¥20: the total is updated." in response.content.decode()
    assert not Order.objects.exists()


def test_the_redraw_follows_a_saved_address_and_the_points_asked_for(shop, shopper, member):
    client = Client()
    client.force_login(shopper)
    make_zone("偏远地区", ["XJ"], name_en="Remote regions")
    saved = addresses.save_address(user=shopper, data={**ADDRESS, "province": "新疆"})
    add(client, shop.tee_s, 3)  # ¥147: free by the default rate, not by the remote zone's

    html = client.post(
        "/checkout/",
        checkout_form(saved_address=str(saved.pk), province="", points="5000", action="quote"),
        **HX,
    ).content.decode()

    assert "Delivery to Xinjiang" in html
    assert quoted(html) == "20.00"
    assert '<dd class="cart-total">¥167</dd>' in html
    assert '<dd class="amount-due">¥117</dd>' in html  # 5000 points: −¥50


def test_a_redraw_for_an_emptied_bag_sends_the_browser_to_the_bag(shop, client):
    add(client, shop.tee_s, 1)
    line = client.get("/cart/").context["view"].lines[0]
    client.post(f"/cart/lines/{line.line_id}/", {"remove": "1"})

    response = client.post("/checkout/", checkout_form(action="quote"), **HX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/cart/"
    assert response.content == b""


def test_the_redraw_costs_fewer_queries_than_the_page(
    shop, remote, client, django_assert_max_num_queries
):
    add(client, shop.tee_s, 1)
    form = checkout_form(province="新疆", action="quote")

    with CaptureQueriesContext(connection) as page:
        client.post("/checkout/", form)
    with django_assert_max_num_queries(GUEST_REDRAW_QUERIES):
        client.post("/checkout/", form, **HX)

    assert len(page.captured_queries) > GUEST_REDRAW_QUERIES


def test_a_members_redraw_costs_fewer_queries_than_the_page(
    shop, shopper, member, django_assert_max_num_queries
):
    client = Client()
    client.force_login(shopper)
    make_zone("偏远地区", ["XJ"], name_en="Remote regions")
    saved = addresses.save_address(user=shopper, data={**ADDRESS, "province": "新疆"})
    add(client, shop.tee_s, 3)
    form = checkout_form(saved_address=str(saved.pk), points="5000", action="quote")

    with CaptureQueriesContext(connection) as page:
        client.post("/checkout/", form)
    with django_assert_max_num_queries(MEMBER_REDRAW_QUERIES):
        client.post("/checkout/", form, **HX)

    assert len(page.captured_queries) > MEMBER_REDRAW_QUERIES
