"""Buy as a guest, then sign in or sign up: the orders this browser placed with the
account's email are in the account (``storefront.accounts.views.auth.after_sign_in``)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from omnimall.orders.models import Order
from tests.checkout.conftest import CONTACT
from tests.checkout.test_pages import checkout_form

pytestmark = pytest.mark.django_db

PASSWORD = "quiet-harbour-1987"


def account():
    """A shopper account, signed in to by email like the storefront's (the fixture's
    username is not its email)."""
    email = CONTACT["email"]
    return get_user_model().objects.create_user(email, email=email, password=PASSWORD)


def sign_in(client: Client) -> None:
    response = client.post("/account/login/", {"username": CONTACT["email"], "password": PASSWORD})
    assert response.status_code == 302


def buy_as_guest(client: Client, shop, **fields) -> Order:
    client.post("/cart/add/", {"sku": shop.tee_s.code, "quantity": 1})
    assert client.post("/checkout/", checkout_form(**fields)).status_code == 302
    return Order.objects.latest("pk")


def test_signing_up_after_buying_as_a_guest_keeps_the_order_in_the_new_account(shop, client):
    order = buy_as_guest(client, shop)

    client.post(
        "/account/signup/",
        {
            "name": "李雷",
            "email": CONTACT["email"].upper(),
            "phone": CONTACT["phone"],
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    history = client.get("/account/orders/").content.decode()
    home = client.get("/account/").content.decode()

    order.refresh_from_db()
    assert order.user is not None
    assert order.user.email == CONTACT["email"]
    assert f'href="/orders/{order.number}/"' in history
    assert "placed as a guest is now in your account" in home + history


def test_signing_in_keeps_an_order_opened_from_its_email_link(shop, client):
    shopper = account()
    order = buy_as_guest(Client(), shop)  # another browser: this one only has the link
    page = client.get(f"/orders/{order.number}/?token={order.guest_token}").content.decode()

    sign_in(client)

    assert "Create an account" in page
    assert 'class="order-keep"' in page
    assert Order.objects.get(pk=order.pk).user_id == shopper.pk


def test_signing_in_on_a_shared_browser_takes_no_one_elses_order(shop, client):
    account()
    order = buy_as_guest(client, shop, email="hanmeimei@example.com")

    sign_in(client)
    history = client.get("/account/orders/").content.decode()

    assert Order.objects.get(pk=order.pk).user_id is None
    assert order.number not in history
    assert not re.search("placed as a guest", history)


def test_the_order_page_offers_signing_in_only_to_guests(shop, client, shopper):
    order = buy_as_guest(client, shop)
    guest_page = client.get(f"/orders/{order.number}/").content.decode()
    client.force_login(shopper)

    owner_page = client.get(f"/orders/{order.number}/").content.decode()

    assert 'class="order-keep"' in guest_page
    assert 'class="order-keep"' not in owner_page
