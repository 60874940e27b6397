"""``POST /api/v1/orders/{number}/refunds``: a customer service or ERP system refunds part
of an order with a ``refunds`` key; a retried call refunds once; bad input and keys without
the scope change nothing."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from django.test import Client

from omnimall.core import api_keys
from omnimall.core.models import AuditEntry
from omnimall.orders.models import Order
from omnimall.payments.models import EntryKind, PaymentEntry
from tests.orders.factories import ACTOR, make_shop, pay, place, wms_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def order():
    return pay(place(make_shop(units=20)).order_id)  # 179.70 paid


def refunds_token() -> str:
    return api_keys.create_api_key(
        name=f"cs-{uuid.uuid4().hex[:6]}", scopes=["refunds"], actor=ACTOR
    ).token


def post(order: Order, body: dict, token: str):
    return Client().post(
        f"/api/v1/orders/{order.number}/refunds",
        json.dumps(body),
        content_type="application/json",
        HTTP_X_API_KEY=token,
    )


def test_a_refund_and_its_retry_refund_once(order):
    token = refunds_token()
    body = {"amount": "25.50", "reason": "damaged box", "refund_no": "CS-1001"}

    first = post(order, body, token)
    again = post(order, body, token)
    other = post(order, {**body, "amount": "1.00"}, token)

    assert first.status_code == 201, first.content
    assert first.json() == {
        "number": order.number,
        "refund_no": "CS-1001",
        "amount": "25.50",
        "amount_refunded": "25.50",
        "state": order.state,
        "replayed": False,
    }
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "refund_no_reused"
    entries = PaymentEntry.objects.filter(payment__order=order, kind=EntryKind.REFUND)
    assert [entry.amount for entry in entries] == [Decimal("-25.50")]
    assert AuditEntry.objects.filter(action="order.refunded").count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount": "179.71", "reason": "x", "refund_no": "A1"}, 409, "refund_exceeds_paid"),
        ({"amount": "0", "reason": "x", "refund_no": "A2"}, 422, None),
        ({"amount": "1.001", "reason": "x", "refund_no": "A3"}, 422, None),
        ({"amount": "1", "reason": "", "refund_no": "A4"}, 422, None),
        ({"amount": "1", "reason": "x\u0007", "refund_no": "A5"}, 422, None),
        ({"amount": "1", "reason": "x\u0000", "refund_no": "A7"}, 400, "bad_request"),
        ({"amount": "1", "reason": "x", "refund_no": "has space"}, 422, None),
        ({"amount": "1", "reason": "x"}, 422, None),
        ({"amount": "1", "reason": "x", "refund_no": "A6", "to": "me"}, 422, None),
    ],
)
def test_bad_refunds_are_refused_and_change_nothing(order, body, status, code):
    reply = post(order, body, refunds_token())

    assert reply.status_code == status, reply.content
    assert "error" in reply.json()
    if code:
        assert reply.json()["error"]["code"] == code
    assert Order.objects.get(pk=order.pk).amount_refunded == 0


def test_a_key_without_the_scope_or_an_unknown_order(order):
    body = {"amount": "1", "reason": "x", "refund_no": "B1"}

    wrong_scope = post(order, body, wms_token())
    no_key = post(order, body, "")
    unknown = Client().post(
        "/api/v1/orders/999999999999/refunds",
        json.dumps(body),
        content_type="application/json",
        HTTP_X_API_KEY=refunds_token(),
    )

    assert wrong_scope.status_code == 403
    assert no_key.status_code == 401
    assert unknown.status_code == 404
    assert Order.objects.get(pk=order.pk).amount_refunded == 0
