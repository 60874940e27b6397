"""Returns in the back office: the list, one return with its lines, and its four steps.

Approve, reject (with a reason the shopper sees), receive at a warehouse or store (the
goods go back into that location's stock) and refund: each step is a small form page
that calls ``orders.services.returns`` (which writes the timeline, the stock ledger, the
payments ledger and the audit trail). Nothing here writes a model.

Store staff see the returns of orders picked up at, credited to or received at one of
their stores, and receive only into their stores; everybody else with the permission
(customer service, logistics, the head of e-commerce) sees every return.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.actors import Actor
from omnimall.core.admin import ReadOnlyAdminMixin, local_time
from omnimall.core.errors import DomainError
from omnimall.inventory.admin.scope import LocationScope
from omnimall.inventory.models import StockLocation
from omnimall.orders.models import ReturnLine, ReturnRequest, ReturnState
from omnimall.orders.services import returns as return_services

from .orders import error_text
from .scope import order_scope

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse

ACTION_TEMPLATE = "orders/admin/return_action.html"


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The shopper sees this."),
    )


class ReceiveForm(forms.Form):
    location = forms.ModelChoiceField(label=_("Received at"), queryset=StockLocation.objects.none())

    def __init__(self, *args: Any, scope: LocationScope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101  (narrows the type)
        field.queryset = scope.locations().filter(is_active=True)


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text=_(
            "The value of the returned goods. On an order paid partly with points, the "
            "payment gateway refunds its money share and the matching points go back to "
            "the member."
        ),
    )


class ReturnLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReturnLine
    fields = ("sku_code", "product", "unit_price", "quantity")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReturnLine]:
        return super().get_queryset(request).select_related("order_line")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Part of the return's page: store staff may see returns, not return-line rows.
        return bool(request.user.has_perm("orders.view_returnrequest"))

    @admin.display(description=_("SKU"))
    def sku_code(self, line: ReturnLine) -> str:
        return line.order_line.sku_code

    @admin.display(description=_("product"))
    def product(self, line: ReturnLine) -> str:
        variant = f" ({line.order_line.variant})" if line.order_line.variant else ""
        return f"{line.order_line.product_name}{variant}"

    @admin.display(description=_("unit price"))
    def unit_price(self, line: ReturnLine) -> Decimal:
        return line.order_line.unit_price


# step: (states it starts from, label)
STEPS: dict[str, tuple[tuple[str, ...], Any]] = {
    "approve": ((ReturnState.REQUESTED,), _("Approve")),
    "reject": ((ReturnState.REQUESTED, ReturnState.APPROVED), _("Reject")),
    "receive": ((ReturnState.APPROVED,), _("Receive")),
    "refund": ((ReturnState.RECEIVED,), _("Refund")),
}


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = ("number", "order_link", "state", "created_at", "received_at_location")
    list_filter = ("state",)
    search_fields = ("number", "order__number", "order__email")
    search_help_text = _("Return number, order number or the shopper's email.")
    list_select_related = ("order", "received_at_location")
    date_hierarchy = "created_at"
    fields = (
        "number",
        "order_link",
        "state",
        "reason",
        "staff_note",
        "received_at_location",
        "refund_amount",
        "created_at",
        "state_changed_at",
    )
    readonly_fields = fields
    inlines = (ReturnLineInline,)
    change_form_template = "orders/admin/return_change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReturnRequest]:
        queryset = super().get_queryset(request).select_related("order")
        return order_scope(request).narrow(
            queryset,
            "order__pickup_store_id",
            "order__credited_store_id",
            "received_at_location_id",
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_step_permission(self, request: HttpRequest, step: str) -> bool:
        allowed = request.user.has_perm("orders.change_returnrequest")
        if step == "refund":
            allowed = allowed and request.user.has_perm("orders.change_order")
        return allowed

    @admin.display(description=_("state last changed"))
    def state_changed_at(self, request_row: ReturnRequest) -> str:
        return local_time(request_row.updated_at)  # only the steps save a return

    @admin.display(description=_("order"), ordering="order__number")
    def order_link(self, request_row: ReturnRequest) -> str:
        try:
            url = reverse("admin:orders_order_change", args=[request_row.order_id])
        except NoReverseMatch:
            return request_row.order.number
        return format_html('<a href="{}">{}</a>', url, request_row.order.number)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:return_id>/steps/<str:step>/",
                view(self.step_view),
                name="orders_returnrequest_step",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        found = (
            self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        )
        steps = []
        if found is not None:
            steps = [
                (step, label)
                for step, (states, label) in STEPS.items()
                if found.state in states and self.has_step_permission(request, step)
            ]
        context = {**(extra_context or {}), "return_steps": steps, "show_save": False}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _form(self, request: HttpRequest, step: str, found: ReturnRequest) -> forms.Form:
        data = request.POST if request.method == "POST" else None
        if step == "approve":
            return NoteForm(data)
        if step == "reject":
            return RejectForm(data)
        if step == "receive":
            return ReceiveForm(data, scope=order_scope(request))
        return RefundForm(data, initial={"amount": return_services.return_value(found)})

    def _run(self, step: str, found: ReturnRequest, data: dict[str, Any], actor: Actor) -> str:
        if step == "approve":
            return_services.approve_return(return_id=found.pk, actor=actor, note=data["note"])
            return gettext("Return approved.")
        if step == "reject":
            return_services.reject_return(return_id=found.pk, reason=data["reason"], actor=actor)
            return gettext("Return rejected.")
        if step == "receive":
            return_services.receive_return(
                return_id=found.pk, location_id=data["location"].pk, actor=actor
            )
            return gettext("Return received; the goods are back in stock.")
        done = return_services.refund_return(return_id=found.pk, actor=actor, amount=data["amount"])
        return gettext("Refunded %(amount)s.") % {"amount": done.refund_amount}

    def step_view(self, request: HttpRequest, return_id: int, step: str) -> HttpResponse:
        if step not in STEPS:
            raise Http404
        if not self.has_step_permission(request, step):
            raise PermissionDenied
        found = self.get_queryset(request).filter(pk=return_id).first()
        if found is None:
            raise Http404
        back = reverse("admin:orders_returnrequest_change", args=[found.pk])
        form = self._form(request, step, found)
        if request.method == "POST" and form.is_valid():
            try:
                done = self._run(step, found, form.cleaned_data, Actor.from_user(request.user))
            except DomainError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, done)
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": found,
            "title": f"{STEPS[step][1]} {found.number}",
            "form": form,
            "submit_label": STEPS[step][1],
            "lines": found.lines.select_related("order_line"),
            "back": back,
        }
        return TemplateResponse(request, ACTION_TEMPLATE, context)
