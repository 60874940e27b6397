"""The shopper's order calls of the Store API as an app makes them: cancel, pay again,
return, history (``/api/v1/orders``)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.orders.factories import make_shop, place

pytestmark = pytest.mark.django_db


def _post(url, body, client=None):
    return (client or Client()).post(url, body, content_type="application/json")


def test_cancel_refuses_an_unknown_field_and_changes_nothing():
    placed = place(make_shop())
    url = f"/api/v1/orders/{placed.number}/cancel"

    refused = _post(url, {"token": placed.guest_token, "refund_to": "my account"})
    seen = Client().get(f"/api/v1/orders/{placed.number}?token={placed.guest_token}")

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "validation_failed"
    assert refused.json()["error"]["details"]["errors"][0]["loc"][-1] == "refund_to"
    assert seen.json()["state"] == "pending_payment"
