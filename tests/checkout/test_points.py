"""Points as a payment method at checkout: the Store API field and the checkout page."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from omnimall.checkout.models import Cart
from omnimall.core.actors import Actor
from omnimall.members.services import points as ledger
from omnimall.orders.models import Order
from omnimall.payments.models import Payment
from tests.checkout.conftest import ADDRESS, CONTACT
from tests.checkout.test_pages import add, checkout_form

pytestmark = pytest.mark.django_db
STAFF = Actor.system("test")


def post(client, path, body=None, **extra):
    return client.post(path, json.dumps(body or {}), content_type="application/json", **extra)


def signed_in_cart(shop, shopper) -> tuple[Client, str, dict[str, str]]:
    """A signed-in session (with its CSRF token) and a cart holding one shirt (299.00)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)
    client.get(f"/p/{shop.tee.slug}/availability/")  # sets the CSRF cookie
    headers = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
    token = post(client, "/api/v1/carts", **headers).json()["id"]
    post(
        client, f"/api/v1/carts/{token}/lines", {"sku": shop.shirt_l.code, "quantity": 1}, **headers
    )
    return client, token, headers


def checkout_body(points: object) -> dict[str, object]:
    return {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS, "points": points}


def test_api_checkout_with_points_holds_them_and_asks_the_gateway_for_the_rest(
    shop, shopper, member
):
    client, token, headers = signed_in_cart(shop, shopper)

    response = post(client, f"/api/v1/carts/{token}/checkout", checkout_body(10_000), **headers)

    assert response.status_code == 201, response.content
    body = response.json()["order"]
    assert (body["total"], body["points_used"], body["points_value"], body["amount_due"]) == (
        "299.00",
        10_000,
        "100.00",
        "199.00",
    )
    order = Order.objects.get(number=body["number"])
    assert Payment.objects.get(order=order).amount == Decimal("199.00")
    member.refresh_from_db()
    assert (member.points_available, member.points_held) == (10_000, 10_000)


@pytest.mark.parametrize(
    ("points", "status", "code"),
    [
        (14_951, 422, "points_over_limit"),  # over 50 % of 299.00
        (14_950, 201, None),
    ],
)
def test_api_checkout_caps_points_at_the_share(shop, shopper, member, points, status, code):
    client, token, headers = signed_in_cart(shop, shopper)

    response = post(client, f"/api/v1/carts/{token}/checkout", checkout_body(points), **headers)

    assert response.status_code == status, response.content
    if code:
        assert response.json()["error"]["code"] == code
        assert Cart.objects.get(token=token).state == "open"  # nothing half-written


def test_api_checkout_refuses_more_points_than_the_member_has(shop, shopper, member):
    ledger.spend_points(
        member_id=member.pk, points=19_000, source_key="till", document="R1", actor=STAFF
    )
    client, token, headers = signed_in_cart(shop, shopper)

    response = post(client, f"/api/v1/carts/{token}/checkout", checkout_body(1001), **headers)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_points"
    assert Order.objects.count() == 0


def test_api_checkout_with_points_needs_a_signed_in_member(shop, client):
    token = post(client, "/api/v1/carts").json()["id"]
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.shirt_l.code, "quantity": 1})

    response = post(client, f"/api/v1/carts/{token}/checkout", checkout_body(100))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "points_need_member"


@pytest.mark.parametrize("points", ["100", 1.5, -1, True, None, 2**31])
def test_api_checkout_points_are_a_strict_whole_number(shop, client, points):
    token = post(client, "/api/v1/carts").json()["id"]
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.shirt_l.code, "quantity": 1})

    response = post(client, f"/api/v1/carts/{token}/checkout", checkout_body(points))

    assert response.status_code == 422


def test_checkout_page_offers_points_and_recomputes_what_is_left_to_pay(shop, shopper, member):
    client = Client()
    client.force_login(shopper)
    add(client, shop.shirt_l, 1)

    page = client.get("/checkout/").content.decode()
    applied = client.post("/checkout/", checkout_form(action="points", points="5000"))
    too_many = client.post("/checkout/", checkout_form(action="points", points="15000"))

    assert "You have 20000 points: use up to 14950 points on this order" in page
    text = applied.content.decode()
    assert '<dt class="points-used">5000 points</dt><dd class="points-used">−¥50</dd>' in text
    assert '<dt class="amount-due">To pay</dt><dd class="amount-due">¥249</dd>' in text
    assert "At most 14950 points on this order." in too_many.content.decode()


def test_checkout_page_pays_with_points(shop, shopper, member):
    client = Client()
    client.force_login(shopper)
    add(client, shop.shirt_l, 1)

    response = client.post("/checkout/", checkout_form(points="5000"))

    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.points_used, order.points_value) == (5000, Decimal("50.00"))
    assert Payment.objects.get(order=order).amount == Decimal("249.00")


def test_checkout_page_shows_a_points_refusal_on_the_form(shop, shopper, member):
    client = Client()
    client.force_login(shopper)
    add(client, shop.shirt_l, 1)

    response = client.post("/checkout/", checkout_form(points="20000"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "That is more points than this order can be paid with." in html
    assert "At most 14950 points" not in html  # one message for one problem
    assert Order.objects.count() == 0


def test_a_guests_checkout_page_shows_no_points(shop, client):
    add(client, shop.shirt_l, 1)

    page = client.get("/checkout/").content.decode()

    assert "Pay with points" not in page


def test_a_members_checkout_with_points_stays_within_its_query_budget(shop, shopper, member):
    """The guest budget (``test_query_counts``) plus the member read, the ledger's hold
    (member lock, hold, entry, lots) and the member read for the credited home store."""
    client, token, headers = signed_in_cart(shop, shopper)

    with CaptureQueriesContext(connection) as captured:
        response = post(client, f"/api/v1/carts/{token}/checkout", checkout_body(100), **headers)

    assert response.status_code == 201, response.content
    # 43 today on SQLite: the session and user (2), the guest path for one line, the
    # member (twice: points, then the home store for the credit), the hold (11 with its
    # savepoint), the test transaction's savepoint pair.
    assert len(captured.captured_queries) <= 43


def test_get_cart_tells_a_signed_in_member_the_points_they_may_use(shop, shopper, member):
    client, token, _headers = signed_in_cart(shop, shopper)

    body = client.get(f"/api/v1/carts/{token}").json()

    assert body["points"] == {"available": 20_000, "max_points": 14_950, "value_of_max": "149.50"}


def test_get_cart_tells_a_guest_nothing_about_points(shop, client):
    token = post(client, "/api/v1/carts").json()["id"]

    assert client.get(f"/api/v1/carts/{token}").json()["points"] is None
