"""The order page's invoice (fapiao) box: what the shopper asked for and what was issued.

Read-only, for whoever may see the order (as its lines and timeline are); finance records
the issued invoice on the invoice's own page (``invoices``), linked from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from omnimall.core.admin import ReadOnlyAdminMixin
from omnimall.orders.models import InvoiceRequest

if TYPE_CHECKING:
    from django.http import HttpRequest


def pdf_link(invoice: InvoiceRequest) -> str:
    if not invoice.pdf_url:
        return "-"
    return format_html('<a href="{0}" rel="noopener noreferrer">{0}</a>', invoice.pdf_url)


class InvoiceRequestInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = InvoiceRequest
    verbose_name = _("invoice (fapiao)")
    verbose_name_plural = _("invoice (fapiao)")
    fields = (
        ("kind", "state"),
        "title",
        "tax_id",
        "email",
        ("invoice_number", "invoice_pdf", "amount"),
        ("requested_at", "issued_at"),
        "finance_page",
    )
    readonly_fields = (
        "kind", "state", "title", "tax_id", "email", "invoice_number", "invoice_pdf", "amount",
        "requested_at", "issued_at", "finance_page",
    )  # fmt: skip
    extra = 0
    max_num = 1
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Part of the order's page, like its lines: whoever may see the order sees it.
        return bool(request.user.has_perm("orders.view_order"))

    @admin.display(description=_("invoice PDF"))
    def invoice_pdf(self, invoice: InvoiceRequest) -> str:
        return pdf_link(invoice)

    @admin.display(description=_("finance"))
    def finance_page(self, invoice: InvoiceRequest) -> str:
        url = reverse("admin:orders_invoicerequest_change", args=[invoice.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open in Invoices (fapiao)"))
