"""Asking for an invoice (fapiao) through the Store API: at checkout, or later."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from omnimall.checkout.models import Cart, CartState
from omnimall.core.models import OutboxMessage, WebhookSubscription
from omnimall.orders.models import InvoiceRequest, Order
from tests.checkout.conftest import ADDRESS, CONTACT

pytestmark = pytest.mark.django_db

COMPANY = {"kind": "company", "title": "北风贸易有限公司", "tax_id": "91110000600037341L"}


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def cart_with_a_tee(client, shop):
    token = post(client, "/api/v1/carts", {}).json()["id"]
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})
    return token


def checkout(client, token, **more):
    body = {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS, **more}
    return post(client, f"/api/v1/carts/{token}/checkout", body)


def test_checkout_with_a_company_invoice_records_it_and_tells_integrations(shop):
    WebhookSubscription.objects.create(
        name="erp",
        url="https://erp.example.com/hooks",
        secret="s3cret",
        topics=["order.invoice_requested"],
    )
    client = Client()
    token = cart_with_a_tee(client, shop)

    placed = checkout(client, token, invoice={**COMPANY, "tax_id": "91 1100 0060 0037 341l"})

    assert placed.status_code == 201, placed.content
    order = placed.json()["order"]
    seen = client.get(f"/api/v1/orders/{order['number']}?token={order['token']}").json()
    invoice = seen["invoice"]
    assert (invoice["kind"], invoice["title"], invoice["tax_id"]) == (
        "company",
        "北风贸易有限公司",
        "91110000600037341L",
    )
    assert invoice["email"] == CONTACT["email"]  # defaults to the order's
    assert (invoice["state"], invoice["invoice_number"]) == ("requested", "")
    assert seen["can_request_invoice"] is True
    (hook,) = OutboxMessage.objects.filter(topic="order.invoice_requested")
    assert "91110000600037341L" in json.dumps(hook.payload, ensure_ascii=False)


@pytest.mark.parametrize(
    ("invoice", "fields"),
    [
        ({**COMPANY, "tax_id": "91110000600037341A"}, {"tax_id"}),  # wrong check character
        ({"kind": "company", "title": "", "tax_id": ""}, {"title", "tax_id"}),
        ({"kind": "personal", "email": "not-an-address"}, {"email"}),
        ({**COMPANY, "title": "北风\x07贸易"}, {"title"}),  # a control character
    ],
)
def test_a_bad_invoice_refuses_the_checkout_and_writes_nothing(shop, invoice, fields):
    client = Client()
    token = cart_with_a_tee(client, shop)

    refused = checkout(client, token, invoice=invoice)

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_invoice"
    assert set(refused.json()["error"]["details"]["errors"]) == fields
    assert not Order.objects.exists()
    assert Cart.objects.get(token=token).state == CartState.OPEN


@pytest.mark.parametrize(
    "invoice", [{"kind": "vat-special"}, {**COMPANY, "bank_account": "6222…"}, "yes"]
)
def test_a_malformed_invoice_is_422(shop, invoice):
    client = Client()

    refused = checkout(client, cart_with_a_tee(client, shop), invoice=invoice)

    assert refused.status_code == 422
    assert not Order.objects.exists()


def test_a_guest_asks_for_a_personal_invoice_after_checkout_and_corrects_it(shop):
    client = Client()
    order = checkout(client, cart_with_a_tee(client, shop)).json()["order"]
    url = f"/api/v1/orders/{order['number']}/invoice-request"

    asked = post(client, url, {"token": order["token"], "kind": "personal"})
    corrected = post(client, url, {"token": order["token"], **COMPANY, "email": "ap@nw.cn"})
    stranger = post(client, url, {"token": "guess", "kind": "personal"})
    no_token = post(client, url, {"kind": "personal"})

    assert asked.status_code == 200, asked.content
    assert asked.json()["invoice"]["title"] == CONTACT["name"]  # a person's: their name
    assert corrected.json()["invoice"]["kind"] == "company"
    assert corrected.json()["invoice"]["email"] == "ap@nw.cn"
    assert InvoiceRequest.objects.count() == 1
    assert stranger.status_code == 404
    assert no_token.status_code == 404


def test_a_cancelled_order_gets_no_invoice(shop):
    client = Client()
    order = checkout(client, cart_with_a_tee(client, shop)).json()["order"]
    post(client, f"/api/v1/orders/{order['number']}/cancel", {"token": order["token"]})

    refused = post(
        client,
        f"/api/v1/orders/{order['number']}/invoice-request",
        {"token": order["token"], "kind": "personal"},
    )
    seen = client.get(f"/api/v1/orders/{order['number']}?token={order['token']}").json()

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invoice_not_allowed"
    assert seen["can_request_invoice"] is False
    assert seen["invoice"] is None
