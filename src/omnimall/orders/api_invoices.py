"""Invoices (fapiao) for an ERP or tax system (mounted at ``/api/v1/invoices``).

API key with the scope ``invoices``. ``GET ""`` lists the requests to issue (or the
issued invoices), oldest request first: a poller works through them in the order shoppers
asked, and each one it issues leaves the ``requested`` list, so reading page 1 again
after issuing a page is how it walks the queue. ``POST /{order_number}`` records the
invoice the tax system issued (``orders.services.invoices.issue_invoice``): the shopper is
emailed and ``order.invoice_issued`` published; sending the same number again is a 200
no-op, so a retried call is safe.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import AwareDatetime

from omnimall.core.api.auth import ApiKeyAuth, actor_from
from omnimall.core.api.errors import ERRORS
from omnimall.core.api.schemas import JsonDateTime, StrictIn
from omnimall.orders.selectors import invoices as invoice_selectors
from omnimall.orders.selectors.orders import require_order_id
from omnimall.orders.services import invoices

router = Router(tags=["invoices"], auth=ApiKeyAuth("invoices"))

# No control characters (PostgreSQL refuses NUL in text): refused as 422 here, before
# the service sees them.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class FinanceInvoiceQuery(Schema):
    state: Literal["requested", "issued"] = Field(
        "requested",
        description="requested: still to issue, only orders that may be invoiced now (paid, "
        "not cancelled, not wholly refunded); issued: every issued invoice",
    )
    page: int = Field(
        1,
        ge=1,
        le=1_000_000,
        description=f"{invoice_selectors.PAGE_SIZE} a page, oldest request first; a page "
        "past the last is empty",
    )


class FinanceInvoiceOut(Schema):
    order_number: str
    order_state: str
    kind: str = Field(..., description="personal or company")
    title: str = Field(..., description="The person's or the company's name, as invoiced")
    tax_id: str = Field(..., description="The company's taxpayer ID; empty for a person")
    email: str = Field(..., description="Where the shopper wants the electronic invoice")
    amount: Decimal = Field(
        ...,
        description="What to invoice: paid less refunded while requested, the recorded "
        "amount once issued",
    )
    currency: str
    requested_at: AwareDatetime
    state: str = Field(..., description="requested or issued")
    invoice_number: str
    pdf_url: str
    issued_at: AwareDatetime | None


class FinanceInvoicePageOut(Schema):
    results: list[FinanceInvoiceOut]
    page: int
    pages: int
    total: int = Field(..., description="Invoices in this state, all pages")


class InvoiceIssueIn(StrictIn):
    invoice_number: str = Field(
        ..., max_length=100, pattern=PRINTABLE, description="As issued (1 to 40 characters)"
    )
    pdf_url: str = Field(
        "", max_length=500, pattern=PRINTABLE, description="An http(s) link to the PDF"
    )
    issued_at: JsonDateTime | None = Field(
        None, description="When the tax system issued it, with its offset; default: now"
    )


@router.get(
    "",
    response={200: FinanceInvoicePageOut, **ERRORS},
    summary="Invoice requests to issue, or the issued invoices",
)
def list_invoices(request: HttpRequest, query: Query[FinanceInvoiceQuery]) -> dict[str, Any]:
    """Oldest request first, 50 a page. ``state=requested`` (the default) holds only what
    may be issued now; a request on an unpaid order appears once it is paid, one on an
    order cancelled or wholly refunded never."""
    page = invoice_selectors.list_invoices(state=query.state, page=query.page)
    return {
        "results": [asdict(invoice) for invoice in page.results],
        "page": page.page,
        "pages": page.pages,
        "total": page.total,
    }


@router.post(
    "/{order_number}",
    response={200: FinanceInvoiceOut, **ERRORS},
    summary="Record the invoice the tax system issued for an order",
)
def issue_invoice(
    request: HttpRequest, order_number: str, payload: InvoiceIssueIn
) -> dict[str, Any]:
    """The shopper is emailed the invoice and ``order.invoice_issued`` is published.
    The same ``invoice_number`` again is a 200 no-op (a retry); another is 409
    ``invoice_issued``. 404 ``unknown_order`` or ``invoice_not_requested``; 409
    ``invoice_not_allowed`` for an order unpaid, cancelled or wholly refunded; 422
    ``invalid_invoice`` (per field in ``details.errors``) for a bad number or link."""
    order_id = require_order_id(order_number)
    invoices.issue_invoice(
        order_id=order_id,
        invoice_number=payload.invoice_number,
        pdf_url=payload.pdf_url,
        issued_at=payload.issued_at,
        actor=actor_from(request),
    )
    return asdict(invoice_selectors.get_finance_invoice(order_id=order_id))
