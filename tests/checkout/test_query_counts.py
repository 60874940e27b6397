"""Query budgets of the hot calls (issue 4 targets: add-line ≤ 8, checkout ≤ 30)."""

from __future__ import annotations

import json

import pytest

from tests.checkout.conftest import ADDRESS, CONTACT

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def token(shop, client):
    token = client.post("/api/v1/carts", "{}", content_type="application/json").json()["id"]
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})
    return token


def test_add_line_with_the_priced_cart_in_at_most_8_queries(
    shop, client, token, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        new = post(
            client, f"/api/v1/carts/{token}/lines", {"sku": shop.shirt_l.code, "quantity": 1}
        )
    with django_assert_max_num_queries(8):
        merged = post(
            client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1}
        )

    assert new.status_code == 201
    assert merged.status_code == 201
    assert len(merged.json()["lines"]) == 2


def test_get_cart_in_at_most_4_queries(shop, client, token, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = client.get(f"/api/v1/carts/{token}")

    assert response.status_code == 200


def test_checkout_in_at_most_30_queries(shop, client, token, django_assert_max_num_queries):
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.shirt_l.code, "quantity": 1})
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_m.code, "quantity": 1})

    with django_assert_max_num_queries(30):
        response = post(
            client,
            f"/api/v1/carts/{token}/checkout",
            {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS},
        )

    assert response.status_code == 201, response.content
