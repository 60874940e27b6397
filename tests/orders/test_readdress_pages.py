"""Changing the delivery address from the order page and through the Store API."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client, TestCase

from omnimall.checkout.models import ShippingZone
from omnimall.checkout.services.shipping import save_shipping_zone
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders.models import Order
from tests.orders.factories import ACTOR, make_shop, pay, place, request_ids
from tests.orders.test_readdress import HANGZHOU

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def order():
    return pay(place(make_shop(units=20)).order_id)


def test_a_guest_changes_the_address_on_the_order_page(client, order):
    detail = f"/orders/{order.number}/?token={order.guest_token}"
    form_url = f"/orders/{order.number}/address/?token={order.guest_token}"

    page = client.get(detail, **EN).content.decode()
    form = client.get(form_url, **EN).content.decode()
    bad = client.post(form_url, {**HANGZHOU, "phone": "12"}, **EN)
    done = client.post(form_url, {**HANGZHOU, "phone": "13900139000"}, **EN)

    assert f'href="{form_url}"' in page
    assert 'value="Shanghai"' in form  # the current address, to edit
    assert 'name="is_default"' not in form
    assert bad.status_code == 200
    assert 'aria-invalid="true"' in bad.content.decode()
    assert done.status_code == 302
    assert Order.objects.get(pk=order.pk).ship_to["city"] == "杭州市"
    assert "杭州市" in client.get(detail, **EN).content.decode()


def test_once_taken_on_the_page_no_longer_offers_it_and_the_form_says_why(client, order):
    for request_id in request_ids(order):
        with TestCase.captureOnCommitCallbacks(execute=True):
            inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)
    detail = f"/orders/{order.number}/?token={order.guest_token}"

    page = client.get(detail, **EN).content.decode()
    refused = client.get(f"/orders/{order.number}/address/?token={order.guest_token}", **EN)

    assert "Change the delivery address" not in page
    assert refused.status_code == 302
    assert "can no longer change" in client.get(detail, **EN).content.decode()


def test_someone_elses_order_is_404_on_the_page_and_in_the_api(order):
    stranger = Client()

    page = stranger.post(f"/orders/{order.number}/address/", HANGZHOU)
    api = stranger.post(
        f"/api/v1/orders/{order.number}/address",
        json.dumps({"address": HANGZHOU}),
        content_type="application/json",
    )

    assert page.status_code == 404
    assert api.status_code == 404
    assert Order.objects.get(pk=order.pk).ship_to["city"] == "Shanghai"


def test_the_api_changes_it_with_the_guest_token_and_refuses_clearly(order):
    url = f"/api/v1/orders/{order.number}/address"

    def post(body):
        return Client().post(url, json.dumps(body), content_type="application/json")

    before = Client().get(f"/api/v1/orders/{order.number}", {"token": order.guest_token}).json()
    bad = post({"token": order.guest_token, "address": {**HANGZHOU, "phone": "12"}})
    extra = post({"token": order.guest_token, "address": HANGZHOU, "total": "0.01"})
    done = post({"token": order.guest_token, "address": HANGZHOU})

    assert before["can_change_address"] is True
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_address"
    assert "phone" in bad.json()["error"]["details"]["errors"]
    assert extra.status_code == 422
    assert done.status_code == 200, done.content
    assert done.json()["ship_to"]["city"] == "杭州市"


def test_the_page_says_what_a_cheaper_delivery_refunds(client):
    order = pay(place(make_shop(units=20), shipping="20.00").order_id)
    form_url = f"/orders/{order.number}/address/?token={order.guest_token}"

    done = client.post(form_url, {**HANGZHOU, "phone": "13900139000"}, follow=True, **EN)

    assert "¥20.00 is being refunded to you" in done.content.decode()
    assert Order.objects.get(pk=order.pk).amount_refunded == 20
    history = done.content.decode().split('class="order-timeline"')[1]
    assert "delivery address changed to 杭州市 西湖区" in history  # the shopper's history
    assert "refunded ¥20.00" in history


def test_a_dearer_delivery_is_refused_on_the_page_pointing_to_customer_service(client, order):
    save_shipping_zone(
        zone=ShippingZone(name_zh="浙江", fee=Decimal("20.00"), free_from=None),
        provinces=["ZJ"],
        actor=ACTOR,
    )
    form_url = f"/orders/{order.number}/address/?token={order.guest_token}"

    refused = client.post(form_url, {**HANGZHOU, "phone": "13900139000"}, **EN)

    body = refused.content.decode()
    assert "costs ¥20.00, not the ¥0.00 paid" in body
    assert "call customer service" in body
    assert Order.objects.get(pk=order.pk).ship_to["city"] == "Shanghai"
