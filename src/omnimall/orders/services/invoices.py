"""Invoices (fapiao): the shopper asks, finance issues, the shopper is emailed.

In China a buyer may ask for an invoice (发票) for any purchase; online shops issue an
electronic general invoice (电子普通发票) to a person or to a company, whose taxpayer ID
(the 18-character Unified Social Credit Code, or an older 15-, 17- or 20-character
registration number) must be on it. The shop does not issue invoices itself: the tax
system does. So the shop keeps the request, tells integrations (webhook
``order.invoice_requested``, e.g. an ERP that issues electronic invoices), and records
the issued invoice's number and PDF when finance or that integration reports it
(``issue_invoice``), which emails the shopper and publishes ``order.invoice_issued``.

A request can be made or corrected until the invoice is issued; never for a cancelled or
fully refunded order. An issued invoice is not changed here (a correction is a red
invoice in the tax system, outside the shop).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils.translation import gettext_noop
from stdnum.cn import uscc

from omnimall.core import audit, clock, outbox
from omnimall.core.actors import Actor
from omnimall.orders import domain
from omnimall.orders.errors import (
    InvalidInvoiceError,
    InvoiceIssuedError,
    InvoiceNotAllowedError,
    InvoiceNotFoundError,
)
from omnimall.orders.models import InvoiceKind, InvoiceRequest, InvoiceState, Order, OrderEventKind
from omnimall.orders.texts import text

from .messages import email_shopper
from .timeline import add_event, lock_order

MAX_TITLE = 100
MAX_INVOICE_NUMBER = InvoiceRequest._meta.get_field("invoice_number").max_length or 40
MAX_PDF_URL = InvoiceRequest._meta.get_field("pdf_url").max_length or 500
ISSUED_AT_SLACK = timedelta(minutes=5)  # the tax system's clock may run a little ahead
ISSUED_AT_PROBLEM = "An invoice is issued after its order was placed, and not in the future."
LEGACY_TAX_ID_LENGTHS = (15, 17, 20)  # registration numbers from before the 2015 code


@dataclass(frozen=True, slots=True)
class InvoiceDetails:
    kind: str
    title: str
    tax_id: str
    email: str


def clean_tax_id(raw: object) -> str:
    """``"91 1100 0060-0037 341l"`` → ``"91110000600037341L"``; "" when not a taxpayer ID
    (an 18-character code must pass its check character). Full-width characters, as a
    Chinese input method may type them, count as their ASCII twins."""
    text = unicodedata.normalize("NFKC", str(raw or ""))
    text = "".join(text.split()).replace("-", "").upper()
    if len(text) == 18:
        return text if uscc.is_valid(text) else ""
    if len(text) in LEGACY_TAX_ID_LENGTHS and text.isascii() and text.isalnum():
        return text
    return ""


def clean_invoice(
    *,
    kind: object,
    title: object,
    tax_id: object,
    email: object,
    contact_name: str = "",
    contact_email: str = "",
) -> InvoiceDetails:
    """The request's details, tidied, or 422 ``invalid_invoice`` naming each bad field.

    The order's contact fills in what was left blank: a personal invoice's title (the
    contact's name) and the address it goes to."""
    errors: dict[str, str] = {}
    kind_text = str(kind or "").strip()
    if kind_text not in InvoiceKind.values:
        errors["kind"] = "Choose a personal or a company invoice."
    title_text = " ".join(str(title or "").split())
    if not title_text and kind_text == InvoiceKind.PERSONAL:
        title_text = " ".join(contact_name.split())
    if not title_text:
        errors["title"] = "The invoice needs a title: your name or the company's."
    elif len(title_text) > MAX_TITLE:
        errors["title"] = f"At most {MAX_TITLE} characters."
    elif not title_text.isprintable():  # a NUL or control character: nothing a title holds
        errors["title"] = "The title holds a character that cannot be printed."
    tax = ""
    if kind_text == InvoiceKind.COMPANY:
        tax = clean_tax_id(tax_id)
        if not tax:
            errors["tax_id"] = "Not a valid taxpayer ID (统一社会信用代码)."
    email_text = str(email or "").strip() or contact_email.strip()
    try:
        validate_email(email_text)
    except ValidationError:
        errors["email"] = "Enter the email address the invoice goes to."
    if errors:
        raise InvalidInvoiceError(errors=errors)
    return InvoiceDetails(kind=kind_text, title=title_text, tax_id=tax, email=email_text)


def invoice_payload(order: Order, invoice: InvoiceRequest) -> dict[str, Any]:
    return {
        "number": order.number,
        "order_state": order.state,
        "requested_at": invoice.requested_at.isoformat() if invoice.requested_at else None,
        "issued_at": invoice.issued_at.isoformat() if invoice.issued_at else None,
        "kind": invoice.kind,
        "title": invoice.title,
        "tax_id": invoice.tax_id,
        "email": invoice.email,
        "state": invoice.state,
        "total": str(order.total),
        "amount_paid": str(order.amount_paid),
        "amount_refunded": str(order.amount_refunded),
        "currency": order.currency,
        "invoice_number": invoice.invoice_number,
        "pdf_url": invoice.pdf_url,
        "amount": str(invoice.amount) if invoice.amount is not None else None,
    }


def request_invoice(*, order_id: int, details: InvoiceDetails, actor: Actor) -> InvoiceRequest:
    """Ask for (or correct) the order's invoice; asking again the same is a no-op."""
    with transaction.atomic():
        order = lock_order(order_id)
        if not domain.may_have_invoice(order.state):
            raise InvoiceNotAllowedError(number=order.number, state=order.state)
        invoice = InvoiceRequest.objects.filter(order=order).first()
        if invoice is not None and invoice.state == InvoiceState.ISSUED:
            raise InvoiceIssuedError(number=order.number)
        fields = {
            "kind": details.kind,
            "title": details.title,
            "tax_id": details.tax_id,
            "email": details.email,
        }
        if invoice is not None and all(getattr(invoice, k) == v for k, v in fields.items()):
            return invoice
        changed = invoice is not None
        if invoice is None:
            invoice = InvoiceRequest.objects.create(order=order, **fields)
        else:
            for key, value in fields.items():
                setattr(invoice, key, value)
            invoice.save(update_fields=list(fields))
        message = (
            gettext_noop("invoice request changed")
            if changed
            else gettext_noop("invoice requested")
        )
        add_event(order, kind=OrderEventKind.INVOICE, message=message, actor=actor, data=fields)
        audit.record(actor=actor, action="order.invoice_requested", subject=order, changes=fields)
        _publish(order, invoice, topic="order.invoice_requested")
        return invoice


def issue_invoice(
    *,
    order_id: int,
    invoice_number: str,
    pdf_url: str,
    actor: Actor,
    issued_at: datetime | None = None,
) -> InvoiceRequest:
    """Record the invoice the tax system issued; email it to the shopper. Recording the
    same number again is a no-op (a retried call); another number is 409
    ``invoice_issued``."""
    number = " ".join(str(invoice_number or "").split())
    url = str(pdf_url or "").strip()
    errors: dict[str, str] = {}
    if not number or len(number) > MAX_INVOICE_NUMBER or not number.isprintable():
        errors["invoice_number"] = f"The invoice number (1 to {MAX_INVOICE_NUMBER} characters)."
    if url:
        try:
            URLValidator(schemes=["https", "http"])(url)
            if len(url) > MAX_PDF_URL or not url.isprintable():
                raise ValidationError("too long")
        except ValidationError:
            errors["pdf_url"] = f"An http(s) link to the invoice PDF, at most {MAX_PDF_URL} long."
    # Years before 2000 first: a year-1 date with a positive offset is before year 1 in UTC,
    # which neither Python's comparisons nor PostgreSQL can hold.
    if issued_at is not None and (
        issued_at.year < 2000 or issued_at > clock.now() + ISSUED_AT_SLACK
    ):
        errors["issued_at"] = ISSUED_AT_PROBLEM
    if errors:
        raise InvalidInvoiceError(errors=errors)
    with transaction.atomic():
        order = lock_order(order_id)
        invoice = InvoiceRequest.objects.filter(order=order).first()
        if invoice is None:
            raise InvoiceNotFoundError(number=order.number)
        if invoice.state == InvoiceState.ISSUED:
            if invoice.invoice_number == number:
                return invoice
            raise InvoiceIssuedError(number=order.number, invoice_number=invoice.invoice_number)
        if not domain.may_issue_invoice(order.state):
            raise InvoiceNotAllowedError(number=order.number, state=order.state)
        if issued_at is not None and issued_at < order.placed_at - ISSUED_AT_SLACK:
            raise InvalidInvoiceError(errors={"issued_at": ISSUED_AT_PROBLEM})
        invoice.state = InvoiceState.ISSUED
        invoice.invoice_number = number
        invoice.pdf_url = url
        invoice.amount = domain.invoice_amount(
            paid=order.amount_paid, refunded=order.amount_refunded
        )
        invoice.issued_at = issued_at or clock.now()
        invoice.save(update_fields=["state", "invoice_number", "pdf_url", "amount", "issued_at"])
        add_event(
            order,
            kind=OrderEventKind.INVOICE,
            message=text(gettext_noop("invoice %(number)s issued"), number=number),
            actor=actor,
            data={"invoice_number": number, "amount": str(invoice.amount)},
        )
        audit.record(
            actor=actor,
            action="order.invoice_issued",
            subject=order,
            changes={"invoice_number": number, "pdf_url": url, "amount": str(invoice.amount)},
        )
        email_shopper(
            order,
            template="invoice_issued",
            to=invoice.email,
            extra={"invoice": invoice, "invoice_number": number},
        )
        _publish(order, invoice, topic="order.invoice_issued")
        return invoice


def _publish(order: Order, invoice: InvoiceRequest, *, topic: str) -> None:
    outbox.publish_webhook_event(
        topic=topic,
        data=invoice_payload(order, invoice),
        dedupe_key=f"order:{order.number}:{topic}:{clock.now().timestamp():.6f}",
    )
