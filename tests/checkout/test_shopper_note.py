"""The shopper's note to the shop (买家留言) given at checkout: kept on the order, shown to
the shopper and staff, handed to the warehouse on the request, its slip and in the API."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from omnimall.checkout.models import Cart, CartState
from omnimall.core import roles
from omnimall.core.models import OutboxMessage
from omnimall.inventory.models import FulfilmentRequest
from omnimall.orders.models import Order
from tests.checkout.conftest import ADDRESS, CONTACT
from tests.checkout.test_pages import add, checkout_form
from tests.orders.factories import pay, wms_token

pytestmark = pytest.mark.django_db

NOTE = "请 下午6点后\n送货，\t谢谢"
TIDY = "请 下午6点后 送货， 谢谢"


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def api_checkout(client, shop, **more):
    token = post(client, "/api/v1/carts", {}).json()["id"]
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})
    body = {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS, **more}
    return token, post(client, f"/api/v1/carts/{token}/checkout", body)


def staff(role: str) -> Client:
    user = get_user_model().objects.create_user(f"{role}-u", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_note_goes_with_the_order_to_everyone_who_handles_it(shop):
    client = Client()

    _, placed = api_checkout(client, shop, note=NOTE)

    assert placed.status_code == 201, placed.content
    number, token = placed.json()["order"]["number"], placed.json()["order"]["token"]
    order = Order.objects.get(number=number)
    assert order.shopper_note == TIDY
    assert client.get(f"/api/v1/orders/{number}?token={token}").json()["note"] == TIDY
    email = OutboxMessage.objects.get(kind="email", topic="order.placed").payload
    assert f"Your note / 您的留言: {TIDY}" in email["body"]
    assert TIDY in email["html"]
    page = client.get(f"/orders/{number}/?token={token}", HTTP_ACCEPT_LANGUAGE="en")
    assert "Your note" in page.content.decode()
    assert TIDY in page.content.decode()

    pay(order.pk)
    request = FulfilmentRequest.objects.get(owner_id=number)
    listed = Client().get("/api/v1/inventory/fulfilment-requests", HTTP_X_API_KEY=wms_token())
    logistics = staff(roles.LOGISTICS)
    slip = logistics.get(
        reverse("admin:inventory_fulfilmentrequest_packing_slip", args=[request.pk])
    )
    back_office = staff(roles.CUSTOMER_SERVICE).get(
        reverse("admin:orders_order_change", args=[order.pk])
    )

    assert request.note == TIDY
    [seen] = [r for r in listed.json()["results"] if r["number"] == request.number]
    assert seen["note"] == TIDY
    assert f"Note from the shopper:</strong> {TIDY}" in slip.content.decode()
    assert TIDY in back_office.content.decode()


def test_an_order_without_a_note_shows_none(shop):
    client = Client()

    _, placed = api_checkout(client, shop)

    number, token = placed.json()["order"]["number"], placed.json()["order"]["token"]
    assert client.get(f"/api/v1/orders/{number}?token={token}").json()["note"] == ""
    page = client.get(f"/orders/{number}/?token={token}", HTTP_ACCEPT_LANGUAGE="en")
    assert "Your note" not in page.content.decode()
    assert "Your note" not in OutboxMessage.objects.get(topic="order.placed").payload["body"]


@pytest.mark.parametrize(
    ("note", "code"),
    [
        ("x" * 201, "invalid_checkout"),  # the shop's limit, once tidied
        ("门卫\x07室", "invalid_checkout"),  # a control character
        ("x" * 1001, "validation_failed"),  # the schema's bound on what is read at all
        (12, "validation_failed"),  # not text
    ],
)
def test_a_bad_note_refuses_the_checkout_and_writes_nothing(shop, note, code):
    client = Client()

    token, refused = api_checkout(client, shop, note=note)

    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == code
    if code == "invalid_checkout":
        assert set(error["details"]["errors"]) == {"note"}
    assert not Order.objects.exists()
    assert Cart.objects.get(token=token).state == CartState.OPEN


def test_a_note_of_200_characters_once_tidied_is_taken(shop):
    note = "很" * 150 + " \n " * 40 + "好" * 49  # 150 + 1 + 49 once the breaks are one space

    _, placed = api_checkout(Client(), shop, note=note)

    assert placed.status_code == 201, placed.content
    assert len(Order.objects.get().shopper_note) == 200


def test_the_checkout_page_takes_a_note_and_says_when_it_is_too_long(shop, client):
    add(client, shop.tee_s)

    too_long = client.post("/checkout/", checkout_form(note="x" * 201))
    placed = client.post("/checkout/", checkout_form(note=NOTE))

    assert too_long.status_code == 200
    assert 'id="id_note_error"' in too_long.content.decode()
    assert placed.status_code == 302, placed.content.decode()[:2000]
    assert Order.objects.get().shopper_note == TIDY


def test_packers_find_the_requests_with_a_note_in_the_back_office(shop):
    _, noted = api_checkout(Client(), shop, note=NOTE)
    _, plain = api_checkout(Client(), shop)
    for placed in (noted, plain):
        pay(Order.objects.get(number=placed.json()["order"]["number"]).pk)
    listing = reverse("admin:inventory_fulfilmentrequest_changelist")
    logistics = staff(roles.LOGISTICS)

    with_note = logistics.get(listing, {"noted": "yes"}).content.decode()
    without = logistics.get(listing, {"noted": "no"}).content.decode()

    noted_request = FulfilmentRequest.objects.get(owner_id=noted.json()["order"]["number"])
    plain_request = FulfilmentRequest.objects.get(owner_id=plain.json()["order"]["number"])
    assert noted_request.number in with_note
    assert plain_request.number not in with_note
    assert "请 下午6点后 送货" in with_note  # the note's first words in the list
    assert plain_request.number in without
