"""A guest finds an order again by its number and the contact given at checkout."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from omnimall.core import throttle
from tests.orders.factories import make_shop, place

pytestmark = pytest.mark.django_db

NOT_FOUND = "We could not find an order with this number and email address or mobile number."


@pytest.fixture(autouse=True)
def _fresh_brake(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def placed():
    return place(make_shop())  # shopper@example.com, 13800138000


def find(client, number, contact):
    return client.post("/orders/find/", {"number": number, "contact": contact})


@pytest.mark.parametrize(
    "contact",
    ["shopper@example.com", "  Shopper@Example.COM ", "13800138000", "+86 138 0013 8000"],
)
def test_the_number_and_the_email_or_mobile_open_the_order_and_the_session_keeps_it(
    placed, contact
):
    guest = Client()
    spaced = f"{placed.number[:6]} {placed.number[6:]}"  # as printed in the emails

    found = find(guest, spaced, contact)
    again = guest.get(f"/orders/{placed.number}/")

    assert found.status_code == 302
    assert found["Location"] == f"/orders/{placed.number}/"
    assert again.status_code == 200
    assert placed.number[6:] in again.content.decode()


@pytest.mark.parametrize(
    ("number", "contact"),
    [
        (None, "someone@example.com"),  # the right number, another address
        (None, "13900139000"),  # another mobile
        (None, "not a phone"),
        ("999999999999", "shopper@example.com"),  # a number that does not exist
        ("abc", "shopper@example.com"),
    ],
)
def test_a_wrong_contact_or_number_gets_one_message_and_opens_nothing(placed, number, contact):
    guest = Client()

    refused = find(guest, number or placed.number, contact)

    assert refused.status_code == 200
    assert NOT_FOUND in refused.content.decode()
    assert guest.get(f"/orders/{placed.number}/").status_code == 404


def test_the_page_asks_for_both_fields_and_the_footer_links_to_it(placed):
    blank = find(Client(), "", "")
    home = Client().get("/")

    assert blank.status_code == 200
    assert blank.content.decode().count("This field is required.") == 2
    assert 'href="/orders/find/"' in home.content.decode()


def test_guessing_is_braked_for_the_number(placed):
    for n in range(throttle.LIMIT):
        find(Client(REMOTE_ADDR=f"10.0.0.{n}"), placed.number, f"guess{n}@example.com")

    braked = find(Client(REMOTE_ADDR="10.0.1.1"), placed.number, "shopper@example.com")
    other = find(Client(REMOTE_ADDR="10.0.1.1"), "999999999999", "x@example.com")

    assert "Too many tries" in braked.content.decode()
    assert NOT_FOUND in other.content.decode()  # another number is not braked by it


def test_the_api_gives_the_guest_token_back(placed):
    api = Client()
    url = "/api/v1/orders/lookup"

    found = api.post(
        url, {"number": placed.number, "contact": "13800138000"}, content_type="application/json"
    )
    wrong = api.post(
        url, {"number": placed.number, "contact": "x@example.com"}, content_type="application/json"
    )
    unknown_field = api.post(
        url,
        {"number": placed.number, "contact": "13800138000", "email": "x"},
        content_type="application/json",
    )
    opened = api.get(f"/api/v1/orders/{placed.number}?token={found.json()['token']}")

    assert found.status_code == 200, found.content
    assert found.json() == {"number": placed.number, "token": placed.guest_token}
    assert opened.status_code == 200
    assert wrong.status_code == 404
    assert wrong.json()["error"]["code"] == "unknown_order"
    assert unknown_field.status_code == 422


def test_the_api_brakes_guessing_from_one_client(placed):
    api = Client()
    for n in range(throttle.LIMIT):
        api.post(
            "/api/v1/orders/lookup",
            {"number": f"99999999999{n}", "contact": "x@example.com"},
            content_type="application/json",
        )

    braked = api.post(
        "/api/v1/orders/lookup",
        {"number": placed.number, "contact": "shopper@example.com"},
        content_type="application/json",
    )

    assert braked.status_code == 429
    assert braked.json()["error"]["code"] == "too_many_attempts"
