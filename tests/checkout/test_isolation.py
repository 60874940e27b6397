"""One shopper cannot see or change another's cart (404, never 403)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from omnimall.checkout.models import CartLine
from omnimall.checkout.services import carts
from tests.checkout.conftest import ADDRESS, CONTACT

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def users_cart(shop, shopper):
    cart = carts.create_cart(user=shopper)
    carts.add_line(token=cart.token, user=shopper, sku_code=shop.tee_s.code, quantity=1)
    return cart


@pytest.mark.parametrize("as_other_user", [False, True])
def test_a_users_cart_by_its_token_is_404_for_anyone_else(
    shop, users_cart, other_shopper, as_other_user
):
    client = Client()
    if as_other_user:
        client.force_login(other_shopper)
    token = users_cart.token
    line_id = CartLine.objects.get().pk

    responses = [
        client.get(f"/api/v1/carts/{token}"),
        post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1}),
        client.patch(
            f"/api/v1/carts/{token}/lines/{line_id}",
            json.dumps({"quantity": 5}),
            content_type="application/json",
        ),
        client.delete(f"/api/v1/carts/{token}/lines/{line_id}"),
        client.get(f"/api/v1/carts/{token}/pickup-stores"),
        post(
            client,
            f"/api/v1/carts/{token}/checkout",
            {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS},
        ),
    ]

    assert [r.status_code for r in responses] == [404] * 6
    assert {r.json()["error"]["code"] for r in responses} == {"cart_not_found"}
    assert CartLine.objects.get().quantity == 1


def test_the_owner_signed_in_uses_their_cart(shop, users_cart, shopper):
    client = Client()
    client.force_login(shopper)

    response = client.get(f"/api/v1/carts/{users_cart.token}")

    assert response.status_code == 200
    assert response.json()["lines"][0]["quantity"] == 1


def test_a_guest_cart_is_not_reachable_by_its_id_or_a_guessed_token(shop, client):
    cart = carts.create_cart(user=None)

    by_pk = client.get(f"/api/v1/carts/{cart.pk}")
    last = "y" if cart.token.endswith("x") else "x"
    guessed = client.get(f"/api/v1/carts/{cart.token[:-1]}{last}")

    assert by_pk.status_code == 404
    assert guessed.status_code == 404


def test_another_guests_line_id_is_404_in_my_cart(shop, client):
    mine = carts.create_cart(user=None)
    theirs = carts.create_cart(user=None)
    carts.add_line(token=theirs.token, user=None, sku_code=shop.tee_s.code, quantity=1)
    their_line = CartLine.objects.get(cart=theirs)

    response = client.delete(f"/api/v1/carts/{mine.token}/lines/{their_line.pk}")

    assert response.status_code == 404
    assert CartLine.objects.filter(pk=their_line.pk).exists()
