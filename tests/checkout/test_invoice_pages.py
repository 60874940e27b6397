"""Asking for an invoice (fapiao) on the shop's pages: at checkout and on the order page."""

from __future__ import annotations

import pytest
from django.test import Client

from omnimall.core.actors import Actor
from omnimall.orders.models import InvoiceRequest, Order
from omnimall.orders.services import invoices
from tests.checkout.test_pages import add, checkout_form
from tests.orders.factories import pay

pytestmark = pytest.mark.django_db

TAX_ID = "91110000600037341L"


def test_checkout_asks_for_a_company_invoice_with_the_order(shop, client):
    add(client, shop.tee_s)

    response = client.post(
        "/checkout/",
        checkout_form(
            want_invoice="on",
            **{
                "invoice-kind": "company",
                "invoice-title": "北风贸易有限公司",
                "invoice-tax_id": "９１１１００００６０００３７３４１ｌ",
            },
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    invoice = InvoiceRequest.objects.get()
    assert (invoice.kind, invoice.title, invoice.tax_id) == ("company", "北风贸易有限公司", TAX_ID)
    assert invoice.email == "lilei@example.com"


def test_a_bad_taxpayer_id_is_a_form_error_and_places_nothing(shop, client):
    add(client, shop.tee_s)

    response = client.post(
        "/checkout/",
        checkout_form(
            want_invoice="on",
            **{"invoice-kind": "company", "invoice-title": "北风", "invoice-tax_id": "123"},
        ),
    )

    assert response.status_code == 200
    assert "taxpayer ID" in response.content.decode()
    assert not Order.objects.exists()


def test_the_invoice_fields_count_only_when_an_invoice_is_wanted(shop, client):
    add(client, shop.tee_s)

    response = client.post(
        "/checkout/", checkout_form(**{"invoice-kind": "company", "invoice-tax_id": "123"})
    )

    assert response.status_code == 302
    assert not InvoiceRequest.objects.exists()


def _placed_order(shop, client):
    add(client, shop.tee_s)
    client.post("/checkout/", checkout_form())
    return Order.objects.get()


def test_the_order_page_asks_for_a_personal_invoice_and_shows_it_once_issued(shop, client):
    order = _placed_order(shop, client)
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert f'href="/orders/{order.number}/invoice/' in page

    asked = client.post(f"/orders/{order.number}/invoice/", {"kind": "personal"})
    requested_page = client.get(f"/orders/{order.number}/").content.decode()
    pay(order.pk)
    invoices.issue_invoice(
        order_id=order.pk,
        invoice_number="26112700000042",
        pdf_url="https://invoices.example.cn/42.pdf",
        actor=Actor.system("finance"),
    )
    issued_page = client.get(f"/orders/{order.number}/").content.decode()
    closed = client.get(f"/orders/{order.number}/invoice/")

    assert asked.status_code == 302
    assert InvoiceRequest.objects.get().title == "李雷"  # the contact's name
    assert "lilei@example.com" in requested_page
    assert "26112700000042" in issued_page
    assert 'href="https://invoices.example.cn/42.pdf"' in issued_page
    assert closed.status_code == 302  # nothing left to ask: back to the order


def test_another_visitor_cannot_ask_for_the_invoice(shop, client):
    order = _placed_order(shop, client)

    stranger = Client().post(f"/orders/{order.number}/invoice/", {"kind": "personal"})

    assert stranger.status_code == 404
    assert not InvoiceRequest.objects.exists()
