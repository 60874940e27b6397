"""Invoices (fapiao) in the back office: finance's list and the form that records an issue.

The list opens on the work: requests on orders an invoice may be issued for now
(``invoice_filters``). A request's page is read-only but for a small form, the invoice
number and PDF link the tax system gave, which calls
``orders.services.invoices.issue_invoice`` (it stores the amount, emails the shopper,
writes the timeline, the audit trail and the ``order.invoice_issued`` webhook). Nothing
is added or deleted here: shoppers ask for invoices (checkout, the order page, the Store
API). Finance (``change_invoicerequest``) records issues; whoever may view sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.actors import Actor
from omnimall.core.admin import ReadOnlyAdminMixin
from omnimall.core.errors import DomainError
from omnimall.inventory.admin.labels import LabelledPagesMixin
from omnimall.orders import domain
from omnimall.orders.errors import InvalidInvoiceError
from omnimall.orders.models import InvoiceRequest, InvoiceState, Order
from omnimall.orders.selectors import display_number
from omnimall.orders.selectors.invoices import amount_to_invoice
from omnimall.orders.services import invoices as invoice_services

from .invoice_filters import (
    InvoiceChangeList,
    InvoiceStateFilter,
    OrderAllowsFilter,
    shows_work_only,
)
from .invoice_inline import pdf_link
from .order_numbers import searched_order_number
from .orders import FORM_TEMPLATE, error_text
from .scope import narrow_orders, order_scope

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse

ISSUE = "orders.change_invoicerequest"


class IssueForm(forms.Form):
    invoice_number = forms.CharField(
        label=_("Invoice number"), max_length=40, help_text=_("As the tax system issued it.")
    )
    pdf_url = forms.URLField(
        label=_("Invoice PDF link"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("An http(s) link; the shopper's email links to it."),
    )


@admin.register(InvoiceRequest)
class InvoiceRequestAdmin(ReadOnlyAdminMixin, LabelledPagesMixin):
    list_display = (
        "order_link", "kind", "title", "tax_id", "amount_shown", "state", "requested_at",
        "issued_at", "order_state",
    )  # fmt: skip
    # The order column links to the order's page, so the title opens the request's own.
    list_display_links = ("title",)
    list_select_related = ("order",)
    list_filter = (InvoiceStateFilter, OrderAllowsFilter, "kind")
    show_facets = admin.ShowFacets.NEVER
    search_fields = ("=tax_id", "title")
    search_help_text = _("Order number (also as read out, '261127 482193'), taxpayer ID or title.")
    show_full_result_count = False
    ordering = ("requested_at", "pk")  # the longest waiting first
    date_hierarchy = "requested_at"
    fieldsets = (
        (None, {"fields": ("order_link", "order_state", "state")}),
        (_("Requested"), {"fields": ("kind", "title", "tax_id", "email", "requested_at")}),
        (
            _("Amount"),
            {"fields": ("currency", "amount_paid", "amount_refunded", "amount_shown")},
        ),
        (_("Issued"), {"fields": ("invoice_number", "invoice_pdf", "issued_at")}),
    )
    readonly_fields = (
        "order_link", "order_state", "state", "kind", "title", "tax_id", "email",
        "requested_at", "currency", "amount_paid", "amount_refunded", "amount_shown",
        "invoice_number", "invoice_pdf", "issued_at",
    )  # fmt: skip
    change_form_template = "orders/admin/invoice_change_form.html"
    change_list_template = "orders/admin/invoice_change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[InvoiceRequest]:
        queryset = super().get_queryset(request).select_related("order")
        if order_scope(request).everywhere:
            return queryset
        return queryset.filter(order__in=narrow_orders(request, Order.objects.all()).values("pk"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[InvoiceRequest], search_term: str
    ) -> tuple[QuerySet[InvoiceRequest], bool]:
        number = searched_order_number(search_term)
        if number:
            return queryset.filter(order__number=number), False
        return super().get_search_results(request, queryset, search_term)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[InvoiceChangeList]:
        return InvoiceChangeList

    def object_label(self, obj: InvoiceRequest) -> str:
        # The model's own text names the order by its row id.
        return f"{display_number(obj.order.number)} · {obj.title}"

    def has_issue_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(ISSUE))

    # --- columns -----------------------------------------------------------------------

    @admin.display(description=_("order"), ordering="order__number")
    def order_link(self, invoice: InvoiceRequest) -> str:
        url = reverse("admin:orders_order_change", args=[invoice.order_id])
        return format_html('<a href="{}">{}</a>', url, display_number(invoice.order.number))

    @admin.display(description=_("order state"), ordering="order__state")
    def order_state(self, invoice: InvoiceRequest) -> str:
        return invoice.order.get_state_display()

    @admin.display(description=_("amount to invoice"))
    def amount_shown(self, invoice: InvoiceRequest) -> str:
        return f"{amount_to_invoice(invoice)} {invoice.order.currency}"

    @admin.display(description=_("currency"))
    def currency(self, invoice: InvoiceRequest) -> str:
        return invoice.order.currency

    @admin.display(description=_("paid"))
    def amount_paid(self, invoice: InvoiceRequest) -> str:
        return str(invoice.order.amount_paid)

    @admin.display(description=_("refunded"))
    def amount_refunded(self, invoice: InvoiceRequest) -> str:
        return str(invoice.order.amount_refunded)

    @admin.display(description=_("invoice PDF"))
    def invoice_pdf(self, invoice: InvoiceRequest) -> str:
        return pdf_link(invoice)

    # --- pages -------------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:invoice_id>/issue/",
                view(self.issue_view),
                name="orders_invoicerequest_issue",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        work_only = shows_work_only(request)
        context = {**(extra_context or {}), "work_only": work_only}
        if work_only:
            context["title"] = gettext("Invoices to issue")
        return super().changelist_view(request, extra_context=context)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: InvoiceRequest | None = None,
    ) -> HttpResponse:
        context = {**context, "issue_form": None, "not_issuable": ""}
        if obj is not None and obj.state == InvoiceState.REQUESTED:
            if not domain.may_issue_invoice(obj.order.state):
                context["not_issuable"] = gettext(
                    "The order is %(state)s: an invoice is issued only for a paid order that "
                    "was not cancelled or wholly refunded."
                ) % {"state": obj.order.get_state_display()}
            elif self.has_issue_permission(request):
                context["issue_form"] = IssueForm()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def issue_view(self, request: HttpRequest, invoice_id: int) -> HttpResponse:
        """Record the issued invoice (posted from the request's page, or this page's form
        again when something was refused)."""
        if not self.has_issue_permission(request):
            raise PermissionDenied
        invoice = self.get_queryset(request).filter(pk=invoice_id).first()
        if invoice is None:
            raise Http404
        form = IssueForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            done = self._issue(request, invoice, form)
            if done is not None:
                messages.success(request, done)
                return HttpResponseRedirect(reverse("admin:orders_invoicerequest_changelist"))
        shown = display_number(invoice.order.number)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Record the issued invoice of order %(order)s") % {"order": shown},
            "original": invoice,
            "form": form,
            "submit_label": gettext("Record the invoice"),
            "hidden": [],
            "objects": [
                invoice.title,
                invoice.tax_id or gettext("personal invoice"),
                f"{amount_to_invoice(invoice)} {invoice.order.currency}",
            ],
        }
        return TemplateResponse(request, FORM_TEMPLATE, context)

    def _issue(self, request: HttpRequest, invoice: InvoiceRequest, form: IssueForm) -> str | None:
        """The success message, or None with the refusal put on the form."""
        number = form.cleaned_data["invoice_number"]
        already = invoice.state == InvoiceState.ISSUED
        try:
            invoice_services.issue_invoice(
                order_id=invoice.order_id,
                invoice_number=number,
                pdf_url=form.cleaned_data["pdf_url"],
                actor=Actor.from_user(request.user),
            )
        except InvalidInvoiceError as refused:
            for field, text in dict(refused.details.get("errors") or {}).items():
                form.add_error(field if field in form.fields else None, text)
            return None
        except DomainError as refused:
            form.add_error(None, error_text(refused))
            return None
        shown = display_number(invoice.order.number)
        if already:
            return gettext("Invoice %(number)s of order %(order)s was already recorded.") % {
                "number": number,
                "order": shown,
            }
        return gettext(
            "Invoice %(number)s recorded for order %(order)s; the shopper is emailed."
        ) % {"number": number, "order": shown}
