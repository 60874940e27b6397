"""Brakes on hoarding stock through unpaid orders (``checkout.services.limits``).

A shopper may hold ``CHECKOUT_MAX_UNPAID`` orders awaiting payment at once (a signed-in one
counted by account, a guest by contact phone), and one client address may start
``CHECKOUT_RATE_PER_ADDRESS`` checkouts per 10 minutes. A refused checkout writes nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from omnimall.checkout.models import Cart, CartState
from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.inventory.models import Reservation
from omnimall.orders.models import Order
from omnimall.orders.services.cancellation import cancel_order
from tests.checkout.conftest import ADDRESS, CONTACT
from tests.checkout.test_pages import checkout_form
from tests.orders.factories import pay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.CHECKOUT_MAX_UNPAID = 3
    settings.CHECKOUT_RATE_PER_ADDRESS = 60


def post(client, path, body=None, **extra):
    return client.post(path, json.dumps(body or {}), content_type="application/json", **extra)


def check_out(client, sku, *, phone="13800138000", address="198.51.100.20"):
    """A new cart with one unit of ``sku``, checked out for delivery from ``address``."""
    token = post(client, "/api/v1/carts").json()["id"]
    post(client, f"/api/v1/carts/{token}/lines", {"sku": sku.code, "quantity": 1})
    response = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": {**CONTACT, "phone": phone}, "delivery_method": "ship", "address": ADDRESS},
        REMOTE_ADDR=address,
    )
    return token, response


def test_a_fourth_unpaid_order_is_refused_and_nothing_is_written(shop, client):
    for _ in range(3):
        assert check_out(client, shop.tee_s)[1].status_code == 201
    held = Reservation.objects.count()

    token, refused = check_out(client, shop.tee_s, phone="138 0013 8000")  # same phone

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "too_many_unpaid_orders"
    assert refused.json()["error"]["details"] == {"limit": 3}
    assert Order.objects.count() == 3
    assert Reservation.objects.count() == held
    assert Cart.objects.get(token=token).state == CartState.OPEN  # try again after paying


def test_paying_or_cancelling_one_frees_a_place(shop, client):
    orders = [check_out(client, shop.tee_s)[1].json()["order"]["number"] for _ in range(3)]
    assert check_out(client, shop.tee_s)[1].status_code == 409

    pay(Order.objects.get(number=orders[0]).pk)
    assert check_out(client, shop.tee_s)[1].status_code == 201
    cancel_order(
        order_id=Order.objects.get(number=orders[1]).pk,
        actor=Actor(kind="anonymous", label="shopper"),
        reason="changed my mind",
        by_shopper=True,
    )

    assert check_out(client, shop.tee_s)[1].status_code == 201
    assert check_out(client, shop.tee_s)[1].status_code == 409


def test_an_order_whose_hold_ran_out_no_longer_counts(shop, client):
    for _ in range(3):
        check_out(client, shop.tee_s)

    with time_machine.travel(clock.now() + timedelta(minutes=16), tick=False):
        assert check_out(client, shop.tee_s)[1].status_code == 201


def test_other_shoppers_are_not_braked_by_one_shoppers_unpaid_orders(shop, client):
    for _ in range(3):
        check_out(client, shop.tee_s)

    assert check_out(client, shop.tee_s, phone="13900139000")[1].status_code == 201


def test_a_signed_in_shopper_is_counted_by_account_whatever_phone_they_give(shop, shopper):
    client = Client()
    client.force_login(shopper)
    for n in range(3):
        assert check_out(client, shop.tee_s, phone=f"1390013900{n}")[1].status_code == 201

    refused = check_out(client, shop.tee_s, phone="13700137000")[1]

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "too_many_unpaid_orders"
    mine = list(Order.objects.filter(user=shopper).values_list("number", flat=True))
    assert sorted(refused.json()["error"]["details"]["orders"]) == sorted(mine)


def test_a_strangers_guest_orders_with_a_members_phone_do_not_brake_the_member(shop, shopper):
    stranger = Client()
    for _ in range(3):  # someone types the member's number into three guest orders
        assert check_out(stranger, shop.tee_s, phone=CONTACT["phone"])[1].status_code == 201
    member = Client()
    member.force_login(shopper)

    placed = check_out(member, shop.tee_s, phone=CONTACT["phone"])[1]
    guest_again = check_out(Client(), shop.tee_s, phone=CONTACT["phone"])[1]

    assert placed.status_code == 201
    assert guest_again.status_code == 409  # a guest with that phone is still counted


def test_an_address_past_its_checkouts_waits_for_the_window(shop, client, settings):
    settings.CHECKOUT_RATE_PER_ADDRESS = 2
    settings.CHECKOUT_MAX_UNPAID = 0  # only the address brake here
    start = clock.now()
    with time_machine.travel(start, tick=False):
        for n in range(2):
            assert check_out(client, shop.tee_s, phone=f"1390013900{n}")[1].status_code == 201

        token, refused = check_out(client, shop.tee_s, phone="13900139009")
        elsewhere = check_out(client, shop.tee_s, phone="13900139008", address="203.0.113.9")

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_checkouts"
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 600
    assert refused.json()["error"]["details"] == {"retry_after": wait}
    assert Cart.objects.get(token=token).state == CartState.OPEN
    assert elsewhere[1].status_code == 201
    with time_machine.travel(start + timedelta(seconds=wait), tick=False):
        assert check_out(client, shop.tee_s, phone="13900139007")[1].status_code == 201


def test_zero_turns_each_brake_off(shop, client, settings):
    settings.CHECKOUT_MAX_UNPAID = 0
    settings.CHECKOUT_RATE_PER_ADDRESS = 0

    assert all(check_out(client, shop.tee_s)[1].status_code == 201 for _ in range(5))


def test_with_the_cache_unreachable_the_address_brake_lets_checkouts_through(
    shop, client, settings, monkeypatch, caplog
):
    settings.CHECKOUT_RATE_PER_ADDRESS = 1
    settings.CHECKOUT_MAX_UNPAID = 0

    def unreachable(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", unreachable)

    assert all(
        check_out(client, shop.tee_s, phone=f"1390013900{n}")[1].status_code == 201
        for n in range(3)
    )
    assert "a checkout call was not counted" in caplog.text


def test_the_checkout_page_says_why_and_keeps_the_bag(shop, client):
    for _ in range(3):
        check_out(client, shop.tee_s)
    client.post("/cart/add/", {"sku": shop.shirt_l.code, "quantity": 1})

    page = client.post("/checkout/", checkout_form())

    assert page.status_code == 200
    html = page.content.decode()
    assert "This mobile number already has orders waiting for payment" in html
    assert 'href="/account/login/?next=/checkout/"' in html  # signing in counts the account
    assert Order.objects.count() == 3


def test_the_refused_page_lists_the_shoppers_unpaid_orders_to_pay_or_cancel(shop, shopper):
    client = Client()
    client.force_login(shopper)
    mine = [check_out(client, shop.tee_s)[1].json()["order"]["number"] for _ in range(3)]
    someone_else = check_out(Client(), shop.tee_s, phone="13900139000")[1]
    client.post("/cart/add/", {"sku": shop.shirt_l.code, "quantity": 1})

    page = client.post("/checkout/", checkout_form()).content.decode()

    for number in mine:
        assert f'href="/orders/{number}/"' in page
    assert someone_else.json()["order"]["number"] not in page
    assert "You already have orders waiting for payment" in page
    assert "/account/login/" not in page.split('class="checkout-main"')[1].split("</fieldset>")[0]


def test_a_guest_sees_the_unpaid_orders_this_browser_placed(shop, client):
    for _ in range(3):  # placed on the checkout page: the session remembers their tokens
        client.post("/cart/add/", {"sku": shop.tee_s.code, "quantity": 1})
        assert client.post("/checkout/", checkout_form()).status_code == 302
    placed = list(Order.objects.values_list("number", flat=True))
    client.post("/cart/add/", {"sku": shop.shirt_l.code, "quantity": 1})

    page = client.post("/checkout/", checkout_form()).content.decode()
    stranger = Client()
    stranger.post("/cart/add/", {"sku": shop.shirt_l.code, "quantity": 1})
    strangers_page = stranger.post("/checkout/", checkout_form()).content.decode()

    assert all(f'href="/orders/{number}/"' in page for number in placed)
    assert "This mobile number already has orders waiting" in strangers_page  # same phone
    assert not any(number in strangers_page for number in placed)  # but not their orders
