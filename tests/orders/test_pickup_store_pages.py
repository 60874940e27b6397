"""Changing the pick-up store from the order page and through the Store API."""

from __future__ import annotations

import json

import pytest
from django.test import Client, TestCase

from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders.models import Order
from tests.orders.factories import ACTOR, make_shop, pay, place, request_ids
from tests.orders.test_pickup_store import another_store

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def shop():
    return make_shop(units=20)


@pytest.fixture
def order(shop):
    return pay(place(shop, method="pickup").order_id)


def test_a_guest_picks_another_store_on_the_order_page(client, shop, order):
    west = another_store(shop)
    another_store(shop, units=1, code="o-st-short")  # cannot hold the order's 2 units
    detail = f"/orders/{order.number}/?token={order.guest_token}"
    form_url = f"/orders/{order.number}/store/?token={order.guest_token}"

    page = client.get(detail, **EN).content.decode()
    form = client.get(form_url, **EN).content.decode()
    unchosen = client.post(form_url, {"action": "change"}, **EN)
    done = client.post(form_url, {"store": west.code, "action": "change"}, **EN)

    assert f'href="{form_url}"' in page
    assert 'value="o-st-west"' in form
    assert "o-st-short" not in form  # only stores holding all of it are offered
    assert f'value="{shop.store.code}"' not in form  # nor the order's own
    assert unchosen.status_code == 422
    assert "Choose a store." in unchosen.content.decode()
    assert done.status_code == 302
    assert Order.objects.get(pk=order.pk).pickup_store_id == west.pk
    assert "8 West Nanjing Road" in client.get(detail, **EN).content.decode()


def test_a_store_that_ran_out_meanwhile_is_refused_on_the_form(client, shop, order):
    another_store(shop, units=1, code="o-st-short")
    form_url = f"/orders/{order.number}/store/?token={order.guest_token}"

    refused = client.post(form_url, {"store": "o-st-short", "action": "change"}, **EN)
    unknown = client.post(form_url, {"store": "nowhere", "action": "change"}, **EN)

    assert refused.status_code == 422
    assert "no longer holds everything" in refused.content.decode()
    assert "does not offer pick-up" in unknown.content.decode()
    assert Order.objects.get(pk=order.pk).pickup_store_id == shop.store.pk


def test_with_no_other_store_the_page_says_so(client, order):
    form = client.get(f"/orders/{order.number}/store/?token={order.guest_token}", **EN)

    assert form.status_code == 200
    assert "No other store holds everything in this order" in form.content.decode()
    assert 'value="change"' not in form.content.decode()


def test_once_put_aside_the_page_no_longer_offers_it(client, shop, order):
    another_store(shop)
    for request_id in request_ids(order):
        with TestCase.captureOnCommitCallbacks(execute=True):
            inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)
    detail = f"/orders/{order.number}/?token={order.guest_token}"

    page = client.get(detail, **EN).content.decode()
    refused = client.get(f"/orders/{order.number}/store/?token={order.guest_token}", **EN)

    assert "Change the pick-up store" not in page
    assert refused.status_code == 302
    assert "can no longer change" in client.get(detail, **EN).content.decode()


def test_someone_elses_order_is_404_on_the_page_and_in_the_api(shop, order):
    west = another_store(shop)
    stranger = Client()

    page = stranger.post(f"/orders/{order.number}/store/", {"store": west.code})
    stores = stranger.get(f"/api/v1/orders/{order.number}/pickup-stores")
    api = stranger.post(
        f"/api/v1/orders/{order.number}/pickup-store",
        json.dumps({"store": west.code}),
        content_type="application/json",
    )

    assert (page.status_code, stores.status_code, api.status_code) == (404, 404, 404)
    assert Order.objects.get(pk=order.pk).pickup_store_id == shop.store.pk


def test_the_api_lists_the_stores_and_moves_the_order(shop, order):
    west = another_store(shop)
    token = order.guest_token
    url = f"/api/v1/orders/{order.number}/pickup-store"

    def post(body):
        return Client().post(url, json.dumps(body), content_type="application/json")

    before = Client().get(f"/api/v1/orders/{order.number}", {"token": token}).json()
    stores = Client().get(f"/api/v1/orders/{order.number}/pickup-stores", {"token": token})
    unknown = post({"token": token, "store": "nowhere"})
    extra = post({"token": token, "store": west.code, "price": "0.01"})
    done = post({"token": token, "store": west.code})
    after = Client().get(f"/api/v1/orders/{order.number}/pickup-stores", {"token": token})

    assert before["can_change_store"] is True
    assert [s["code"] for s in stores.json()] == [west.code]
    assert stores.json()[0]["address"] == "8 West Nanjing Road"
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "invalid_store"
    assert extra.status_code == 422
    assert done.status_code == 200, done.content
    assert done.json()["pickup_store"]["code"] == west.code
    assert done.json()["pickup_code"] == order.pickup_code
    [change] = [t for t in done.json()["timeline"] if t["kind"] == "change"]
    assert (
        change["label"] == "自提门店已更换为仓库o-st-west"
    )  # the new store, in the shop's language
    assert change["state"] == ""
    assert {t["kind"] for t in done.json()["timeline"]} == {"state", "change"}
    assert [s["code"] for s in after.json()] == [shop.store.code]  # the old one, now other


def test_the_api_says_why_a_delivery_cannot_move(shop):
    another_store(shop)
    delivery = pay(place(shop).order_id)

    refused = Client().post(
        f"/api/v1/orders/{delivery.number}/pickup-store",
        json.dumps({"token": delivery.guest_token, "store": "o-st-west"}),
        content_type="application/json",
    )

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "pickup_store_not_changeable"


def test_an_order_its_store_refused_says_so_and_offers_another_store(client, shop, order):
    west = another_store(shop)
    for request_id in request_ids(order):
        with TestCase.captureOnCommitCallbacks(execute=True):
            inventory_fulfilment.reject_fulfilment_request(
                request_id=request_id, reason="damaged", actor=ACTOR
            )
    detail = f"/orders/{order.number}/?token={order.guest_token}"

    page = client.get(detail, **EN).content.decode()
    api = Client().get(f"/api/v1/orders/{order.number}", {"token": order.guest_token}).json()
    client.post(
        f"/orders/{order.number}/store/?token={order.guest_token}",
        {"store": west.code, "action": "change"},
    )
    mended = client.get(detail, **EN).content.decode()

    assert "this store cannot prepare your order" in page
    assert api["store_refused"] is True
    assert api["can_change_store"] is True
    assert "this store cannot prepare your order" not in mended
