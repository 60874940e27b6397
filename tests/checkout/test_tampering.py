"""Price tampering: a body that carries its own price, or a bad quantity, is refused (422)."""

from __future__ import annotations

import json

import pytest

from omnimall.checkout.models import Cart, CartLine
from omnimall.orders.models import Order
from tests.checkout.conftest import ADDRESS, CONTACT

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def token(shop, client):
    return client.post("/api/v1/carts", "{}", content_type="application/json").json()["id"]


@pytest.mark.parametrize(
    "extra",
    [{"price": "0.01"}, {"unit_price": "0.01"}, {"total": "0.01"}, {"line_total": "1.00"}],
)
def test_add_line_with_a_price_field_is_refused(shop, client, token, extra):
    response = post(
        client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1, **extra}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("quantity", [0, -1, 21, 10**9, 10**30, "2", 1.5, 2.0, True, None, [1]])
def test_add_line_with_a_bad_quantity_is_refused(shop, client, token, quantity):
    response = post(
        client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": quantity}
    )

    assert response.status_code == 422
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("quantity", [0, -1, 21, 10**9, "2", 1.5])
def test_patch_with_a_bad_quantity_is_refused(shop, client, token, quantity):
    line = post(
        client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1}
    ).json()["lines"][0]

    response = client.patch(
        f"/api/v1/carts/{token}/lines/{line['id']}",
        json.dumps({"quantity": quantity}),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert CartLine.objects.get().quantity == 1


def test_patch_with_a_price_is_refused(shop, client, token):
    line = post(
        client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1}
    ).json()["lines"][0]

    response = client.patch(
        f"/api/v1/carts/{token}/lines/{line['id']}",
        json.dumps({"quantity": 2, "unit_price": "0.01"}),
        content_type="application/json",
    )

    assert response.status_code == 422


@pytest.mark.parametrize(
    "tamper",
    [
        {"total": "0.01"},
        {"subtotal": "0.01"},
        {"shipping": "0.00"},
        {"lines": [{"sku": "X", "quantity": 1, "unit_price": "0.01"}]},
        {"address": {**ADDRESS, "price": "1"}},
        {"contact": {**CONTACT, "total": "1"}},
    ],
)
def test_checkout_with_a_price_field_is_refused(shop, client, token, tamper):
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})
    body = {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS, **tamper}

    response = post(client, f"/api/v1/carts/{token}/checkout", body)

    assert response.status_code == 422
    assert not Order.objects.exists()
    assert Cart.objects.get(token=token).state == "open"


def test_create_cart_with_unknown_fields_is_refused(shop, client):
    response = post(client, "/api/v1/carts", {"lines": [{"sku": "X", "quantity": 1}]})

    assert response.status_code == 422
    assert not Cart.objects.exists()


def test_add_line_needs_exactly_one_of_sku_and_sku_id(shop, client, token):
    both = post(
        client,
        f"/api/v1/carts/{token}/lines",
        {"sku": shop.tee_s.code, "sku_id": shop.tee_m.pk, "quantity": 1},
    )
    neither = post(client, f"/api/v1/carts/{token}/lines", {"quantity": 1})

    assert both.status_code == 422
    assert neither.status_code == 422


def test_junk_ids_and_tokens_are_404_not_500(shop, client, token):
    huge = client.patch(
        f"/api/v1/carts/{token}/lines/99999999999999999999999",
        json.dumps({"quantity": 1}),
        content_type="application/json",
    )
    huge_delete = client.delete(f"/api/v1/carts/{token}/lines/99999999999999999999999")
    nul_token = client.get("/api/v1/carts/abc%00def")
    nul_sku = post(client, f"/api/v1/carts/{token}/lines", {"sku": "A\x00B", "quantity": 1})
    huge_sku = post(client, f"/api/v1/carts/{token}/lines", {"sku_id": 10**20, "quantity": 1})

    assert huge.status_code == 404
    assert huge_delete.status_code == 404
    assert nul_token.status_code == 404
    assert nul_sku.status_code == 400  # no body field may hold a NUL (PostgreSQL stores none)
    assert "at sku" in nul_sku.json()["error"]["message"]
    assert huge_sku.status_code == 422


def test_control_characters_in_the_address_are_refused(shop, client, token):
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})

    response = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {
            "contact": {**CONTACT, "name": "Li\x07Lei"},
            "delivery_method": "ship",
            "address": {**ADDRESS, "street": "Road\x1b1"},
        },
    )
    nul = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": CONTACT, "delivery_method": "ship", "address": {**ADDRESS, "street": "R\x00"}},
    )

    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["errors"]) == {"contact.name", "address.street"}
    assert nul.status_code == 400  # a NUL is refused with the body, naming where it was
    assert "at address.street" in nul.json()["error"]["message"]
