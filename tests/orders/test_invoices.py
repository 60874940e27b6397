"""Invoices (fapiao): asked for by the shopper, issued by finance, emailed to the shopper."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.core.models import OutboxMessage, WebhookSubscription
from omnimall.orders.errors import (
    InvalidInvoiceError,
    InvoiceIssuedError,
    InvoiceNotAllowedError,
    InvoiceNotFoundError,
)
from omnimall.orders.models import InvoiceRequest, InvoiceState, Order, OrderEvent
from omnimall.orders.services import cancellation, invoices
from tests.orders.factories import make_shop, pay, place

pytestmark = pytest.mark.django_db

SHOPPER = Actor(kind="anonymous", label="shopper")
FINANCE = Actor.system("finance")
COMPANY_ID = "91110000600037341L"  # a valid Unified Social Credit Code


def company(**overrides):
    values = {"kind": "company", "title": "北风贸易有限公司", "tax_id": COMPANY_ID,
              "email": "ap@northwind.cn", **overrides}  # fmt: skip
    return invoices.clean_invoice(**values)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (COMPANY_ID, COMPANY_ID),
        ("91 1100 0060-0037 341l", COMPANY_ID),  # as copied from a licence, lower case
        ("91110000600037341A", ""),  # the check character is wrong
        ("110105123456789", "110105123456789"),  # an older 15-character registration
        ("1101051234567", ""),
        ("", ""),
        ("９１１１００００６０００３７３４１Ｌ", COMPANY_ID),  # typed full-width
    ],
)
def test_taxpayer_ids_are_tidied_and_checked(raw, clean):
    assert invoices.clean_tax_id(raw) == clean


def test_a_company_invoice_needs_a_valid_taxpayer_id_and_each_bad_field_is_named():
    with pytest.raises(InvalidInvoiceError) as refused:
        invoices.clean_invoice(kind="company", title="  ", tax_id="123", email="nope")

    assert set(refused.value.details["errors"]) == {"title", "tax_id", "email"}
    personal = invoices.clean_invoice(
        kind="personal", title="  Li   Lei ", tax_id=COMPANY_ID, email="li@example.com"
    )
    assert (personal.title, personal.tax_id) == ("Li Lei", "")  # no taxpayer ID for a person
    with pytest.raises(InvalidInvoiceError):
        invoices.clean_invoice(kind="vat-special", title="X", tax_id="", email="a@b.cn")


def test_request_then_issue_emails_the_shopper_and_tells_integrations(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    WebhookSubscription.objects.create(
        name="erp", url="https://erp.example.com/hooks", secret="s3cret", topics=["*"]
    )
    placed = place(make_shop())
    pay(placed.order_id)

    invoices.request_invoice(order_id=placed.order_id, details=company(), actor=SHOPPER)
    again = invoices.request_invoice(order_id=placed.order_id, details=company(), actor=SHOPPER)
    issued = invoices.issue_invoice(
        order_id=placed.order_id,
        invoice_number="26112700000042",
        pdf_url="https://invoices.example.cn/26112700000042.pdf",
        actor=FINANCE,
    )
    retried = invoices.issue_invoice(
        order_id=placed.order_id, invoice_number="26112700000042", pdf_url="", actor=FINANCE
    )

    order = Order.objects.get(pk=placed.order_id)
    assert again.pk == issued.pk == retried.pk
    assert issued.state == InvoiceState.ISSUED
    assert issued.amount == order.amount_paid == order.total
    assert retried.pdf_url.endswith(".pdf")  # the retry changed nothing
    email = OutboxMessage.objects.get(topic="order.invoice_issued", kind="email")
    assert email.payload["to"] == "ap@northwind.cn"  # the invoice address, not the order's
    assert "26112700000042" in email.payload["body"]
    assert "invoices.example.cn" in email.payload["html"]
    hooks = OutboxMessage.objects.filter(kind="webhook").values_list("topic", flat=True)
    assert list(hooks).count("order.invoice_requested") == 1  # once: the repeat was a no-op
    assert list(hooks).count("order.invoice_issued") == 1
    events = OrderEvent.objects.filter(order_id=placed.order_id, kind="invoice")
    assert [e.message for e in events] == ["invoice requested", "invoice 26112700000042 issued"]


def test_an_issued_invoice_is_not_changed_and_a_correction_before_is(settings):
    placed = place(make_shop())
    pay(placed.order_id)
    invoices.request_invoice(order_id=placed.order_id, details=company(), actor=SHOPPER)
    invoices.request_invoice(
        order_id=placed.order_id, details=company(title="北风贸易（上海）有限公司"), actor=SHOPPER
    )
    assert InvoiceRequest.objects.get().title == "北风贸易（上海）有限公司"
    invoices.issue_invoice(order_id=placed.order_id, invoice_number="A1", pdf_url="", actor=FINANCE)

    with pytest.raises(InvoiceIssuedError):
        invoices.request_invoice(order_id=placed.order_id, details=company(), actor=SHOPPER)
    with pytest.raises(InvoiceIssuedError):
        invoices.issue_invoice(
            order_id=placed.order_id, invoice_number="B2", pdf_url="", actor=FINANCE
        )


def test_no_invoice_for_a_cancelled_order_nor_issued_before_payment():
    shop = make_shop()
    unpaid, cancelled = place(shop, quantities=(1,)), place(shop, quantities=(1,))
    cancellation.cancel_order(
        order_id=cancelled.order_id, actor=SHOPPER, reason="x", by_shopper=True
    )
    invoices.request_invoice(order_id=unpaid.order_id, details=company(), actor=SHOPPER)

    with pytest.raises(InvoiceNotAllowedError):
        invoices.request_invoice(order_id=cancelled.order_id, details=company(), actor=SHOPPER)
    with pytest.raises(InvoiceNotAllowedError):
        invoices.issue_invoice(
            order_id=unpaid.order_id, invoice_number="A", pdf_url="", actor=FINANCE
        )
    with pytest.raises(InvoiceNotFoundError):
        invoices.issue_invoice(
            order_id=cancelled.order_id, invoice_number="A", pdf_url="", actor=FINANCE
        )
    with pytest.raises(InvalidInvoiceError):
        invoices.issue_invoice(
            order_id=unpaid.order_id, invoice_number="A", pdf_url="ftp://x", actor=FINANCE
        )
    assert Decimal(0) == sum(i.amount or 0 for i in InvoiceRequest.objects.all())


@pytest.mark.parametrize(
    ("number", "url", "later", "field"),
    [
        ("A\x00B", "", None, "invoice_number"),
        ("A" * 41, "", None, "invoice_number"),
        ("A1", "https://x.cn/" + "a" * 500, None, "pdf_url"),
        ("A1", "https://x.cn/\x00.pdf", None, "pdf_url"),
        ("A1", "", timedelta(days=1), "issued_at"),
        ("A1", "", -timedelta(days=30), "issued_at"),  # before the order was placed
    ],
)
def test_what_the_database_could_not_hold_is_a_422_not_a_500(number, url, later, field):
    placed = place(make_shop())
    pay(placed.order_id)
    invoices.request_invoice(order_id=placed.order_id, details=company(), actor=SHOPPER)

    with pytest.raises(InvalidInvoiceError) as refused:
        invoices.issue_invoice(
            order_id=placed.order_id,
            invoice_number=number,
            pdf_url=url,
            actor=FINANCE,
            issued_at=clock.now() + later if later else None,
        )

    assert set(refused.value.details["errors"]) == {field}
    assert InvoiceRequest.objects.get().state == InvoiceState.REQUESTED


def test_the_webhook_says_the_orders_state_and_when_the_invoice_was_asked_for(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    WebhookSubscription.objects.create(
        name="erp", url="https://erp.example.com/hooks", secret="s3cret", topics=["*"]
    )
    placed = place(make_shop())

    invoices.request_invoice(order_id=placed.order_id, details=company(), actor=SHOPPER)

    hook = OutboxMessage.objects.get(topic="order.invoice_requested").payload
    data = hook.get("body", hook).get("data", hook)
    assert data["order_state"] == "pending_payment"  # not paid yet: not to be issued
    assert data["requested_at"]
    assert data["issued_at"] is None
