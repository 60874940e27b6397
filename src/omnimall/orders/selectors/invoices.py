"""Invoice (fapiao) reads for finance: the ERP's work list and what each invoice covers.

The integration API (``orders.api_invoices``) lists requests page by page and answers one
order's invoice; the back office (``orders.admin.invoices``) shows ``amount_to_invoice``.
Both lists run oldest request first, which the ``invoice_state_idx`` index serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from omnimall.orders import domain
from omnimall.orders.errors import InvoiceNotFoundError
from omnimall.orders.models import InvoiceRequest, InvoiceState, OrderState

PAGE_SIZE = 50

# The order states in which ``issue_invoice`` accepts an invoice: paid, and neither
# cancelled nor wholly refunded. A request on any other order is not finance's work yet
# (unpaid) or ever (cancelled, refunded).
ISSUABLE_ORDER_STATES = tuple(sorted(s for s in OrderState.values if domain.may_issue_invoice(s)))


@dataclass(frozen=True, slots=True)
class FinanceInvoice:
    order_number: str
    order_state: str
    kind: str
    title: str
    tax_id: str
    email: str
    amount: Decimal
    currency: str
    requested_at: datetime
    state: str
    invoice_number: str
    pdf_url: str
    issued_at: datetime | None


@dataclass(frozen=True, slots=True)
class FinanceInvoicePage:
    results: tuple[FinanceInvoice, ...]
    page: int
    pages: int
    total: int


def amount_to_invoice(invoice: InvoiceRequest) -> Decimal:
    """What the invoice covers: once issued, the amount recorded then; before, what
    ``issue_invoice`` would record now (paid less refunded). Reads ``invoice.order``."""
    if invoice.state == InvoiceState.ISSUED and invoice.amount is not None:
        return invoice.amount
    order = invoice.order
    return domain.invoice_amount(paid=order.amount_paid, refunded=order.amount_refunded)


def finance_invoice(invoice: InvoiceRequest) -> FinanceInvoice:
    order = invoice.order
    return FinanceInvoice(
        order_number=order.number,
        order_state=order.state,
        kind=invoice.kind,
        title=invoice.title,
        tax_id=invoice.tax_id,
        email=invoice.email,
        amount=amount_to_invoice(invoice),
        currency=order.currency,
        requested_at=invoice.requested_at,
        state=invoice.state,
        invoice_number=invoice.invoice_number,
        pdf_url=invoice.pdf_url,
        issued_at=invoice.issued_at,
    )


def list_invoices(*, state: str, page: int = 1) -> FinanceInvoicePage:
    """Invoices in ``state``, oldest request first, ``PAGE_SIZE`` a page (two queries).

    ``requested`` lists only orders an invoice may be issued for now, so an ERP polling
    for work gets exactly what it can issue; ``issued`` lists every issued invoice. A page
    past the last is empty (a client paging until an empty page stops there)."""
    rows = InvoiceRequest.objects.filter(state=state)
    if state == InvoiceState.REQUESTED:
        rows = rows.filter(order__state__in=ISSUABLE_ORDER_STATES)
    total = rows.count()
    start = (page - 1) * PAGE_SIZE
    found = rows.select_related("order").order_by("requested_at", "pk")[start : start + PAGE_SIZE]
    return FinanceInvoicePage(
        results=tuple(finance_invoice(invoice) for invoice in found) if start < total else (),
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
    )


def get_finance_invoice(*, order_id: int) -> FinanceInvoice:
    """The order's invoice request; 404 ``invoice_not_requested`` when there is none."""
    invoice = InvoiceRequest.objects.select_related("order").filter(order_id=order_id).first()
    if invoice is None:
        raise InvoiceNotFoundError(order_id=order_id)
    return finance_invoice(invoice)
