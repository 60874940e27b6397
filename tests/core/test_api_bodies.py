"""A request body that is not JSON, or not a JSON object, is 400 ``bad_request`` on every
router (it was 400 ``http_error`` for broken JSON and 422 for an array or a string)."""

from __future__ import annotations

import uuid

import pytest

from omnimall.core import api_keys
from omnimall.core.actors import Actor
from omnimall.core.models import IdempotencyKey
from omnimall.pos.models import Receipt
from tests.members.partners.factories import TRANSFERS, make_partner, signed

pytestmark = pytest.mark.django_db

ADMIN = Actor.system("api-tests")


def key(scopes, bound_to=""):
    return api_keys.create_api_key(
        name=f"key-{uuid.uuid4().hex[:6]}", scopes=scopes, actor=ADMIN, bound_to=bound_to
    ).token


def send(client, method, path, body, scopes=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}
    if scopes:
        headers["HTTP_X_API_KEY"] = key(scopes, "st-1")
    return client.generic(method, path, body, content_type="application/json", **headers)


ENDPOINTS = [
    ("POST", "/api/v1/carts", None),
    ("POST", "/api/v1/carts/no-such-cart/lines", None),
    ("PATCH", "/api/v1/carts/no-such-cart/lines/1", None),
    ("POST", "/api/v1/orders/no-such-order/cancel", None),
    ("POST", "/api/v1/inventory/stock-reports", ["wms"]),
    ("POST", "/api/v1/inventory/shipments", ["wms"]),
    ("POST", "/api/v1/pos/sales", ["pos"]),
    ("POST", "/api/v1/pos/sales/batch", ["pos"]),
]


@pytest.mark.parametrize(("method", "path", "scopes"), ENDPOINTS)
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"sku": "A",}',
            "The request body is not valid JSON: Expecting property name enclosed in double "
            "quotes (line 1, column 13).",
        ),
        (b'{"sku": "A"', "The request body is not valid JSON: Expecting ',' delimiter"),
        (b'{"sku": "\xff"}', "The request body is not valid JSON: it is not UTF-8 text."),
        (b"[]", "The request body must be a JSON object, not an array."),
        (b'"sku"', "The request body must be a JSON object, not a string."),
        (b"12", "The request body must be a JSON object, not a number."),
        (b"true", "The request body must be a JSON object, not a boolean."),
        (b"null", "The request body must be a JSON object, not null."),
    ],
)
def test_api_answers_400_bad_request_when_the_body_is_not_a_json_object(
    client, method, path, scopes, body, message
):
    response = send(client, method, path, body, scopes)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert error["message"].startswith(message)
    assert error["details"] == {}
    assert not IdempotencyKey.objects.exists()
    assert not Receipt.objects.exists()


def test_partner_api_answers_400_bad_request_when_a_signed_body_is_not_json(client):
    kit = make_partner()

    broken = signed(client, kit, "POST", TRANSFERS, body=b'{"transaction_id": ')
    listed = signed(client, kit, "POST", TRANSFERS, body=b'[{"transaction_id": "t-1"}]')

    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "bad_request"
    assert listed.status_code == 400
    assert listed.json()["error"]["message"] == (
        "The request body must be a JSON object, not an array."
    )


def test_api_keeps_422_for_an_object_whose_fields_are_wrong(client):
    response = send(client, "POST", "/api/v1/carts/no-such-cart/lines", b'{"sku": []}')

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"
