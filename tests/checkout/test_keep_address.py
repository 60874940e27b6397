"""A signed-in shopper's new delivery address goes into their address book with the order,
as shopping apps do: once, not past the book's limit, never for a guest."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from omnimall.checkout.models import Address
from omnimall.checkout.services import addresses
from omnimall.orders.models import Order
from tests.checkout.conftest import ADDRESS, CONTACT
from tests.checkout.test_pages import add, checkout_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(shopper):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(shopper)
    return client


def test_the_checkout_page_keeps_a_new_address_once(shop, signed_in, shopper):
    add(signed_in, shop.tee_s)
    page = signed_in.get("/checkout/").content.decode()
    first = signed_in.post("/checkout/", checkout_form(save_address="on"))
    add(signed_in, shop.tee_s)
    again = signed_in.post("/checkout/", checkout_form(save_address="on"))

    assert 'id="id_save_address" name="save_address" value="on" checked' in page
    assert (first.status_code, again.status_code) == (302, 302)
    [kept] = Address.objects.filter(user=shopper)
    assert (kept.name, kept.street, kept.province) == (
        CONTACT["name"],
        ADDRESS["street"],
        ADDRESS["province"],
    )
    assert kept.is_default  # the first one
    assert Order.objects.count() == 2


def test_unticked_nothing_is_kept_and_a_guest_is_never_offered_it(shop, signed_in, shopper):
    add(signed_in, shop.tee_s)
    signed_in.post("/checkout/", checkout_form())  # the box unticked: not posted
    guest = Client(HTTP_ACCEPT_LANGUAGE="en")
    add(guest, shop.tee_s)

    assert not Address.objects.exists()
    assert "save_address" not in guest.get("/checkout/").content.decode()
    assert Order.objects.count() == 1


def test_a_full_book_does_not_stop_the_order(shop, signed_in, shopper):
    for n in range(addresses.MAX_ADDRESSES):
        addresses.save_address(user=shopper, data={**ADDRESS, "street": f"{n} 号"})
    add(signed_in, shop.tee_s)

    placed = signed_in.post("/checkout/", checkout_form(save_address="on"))

    assert placed.status_code == 302
    assert Order.objects.count() == 1
    assert Address.objects.filter(user=shopper).count() == addresses.MAX_ADDRESSES


def test_a_refused_checkout_keeps_no_address(shop, signed_in):
    add(signed_in, shop.tee_s)

    refused = signed_in.post("/checkout/", checkout_form(save_address="on", email="nope"))

    assert refused.status_code == 200
    assert not Address.objects.exists()


def test_the_api_keeps_it_for_a_signed_in_shopper_and_ignores_it_for_a_guest(shop, signed_in):
    def checkout(client):
        cart = client.post("/api/v1/carts", "{}", content_type="application/json").json()["id"]
        client.post(
            f"/api/v1/carts/{cart}/lines",
            json.dumps({"sku": shop.tee_s.code, "quantity": 1}),
            content_type="application/json",
        )
        body = {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS}
        return client.post(
            f"/api/v1/carts/{cart}/checkout",
            json.dumps({**body, "save_address": True}),
            content_type="application/json",
        )

    guest = checkout(Client())
    member = checkout(signed_in)

    assert (guest.status_code, member.status_code) == (201, 201)
    assert Address.objects.count() == 1
