"""Back office: till receipts and till returns, and the receipts that need staff.

Everything here is read-only: receipts and returns are written by the stores' tills
(``pos.services``). The one staff action is "resolve" on a flagged receipt (stock short,
points no longer available), which calls ``sales.resolve_flagged_receipt`` (audited) and
needs ``pos.change_receipt`` (customer service).

``flagged/`` (linked from the list) is the work list: receipts in state ``flagged``,
oldest first; ``takings/`` (linked from the list too) the takings by payment method
(``pos.admin.takings``). Store staff see only their own stores' receipts and returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.actors import Actor
from omnimall.core.admin import ReadOnlyAdminMixin
from omnimall.core.errors import DomainError
from omnimall.members.admin import points as members_admin_points
from omnimall.pos.models import (
    PaymentMethod,
    Receipt,
    ReceiptLine,
    ReceiptState,
    TillReturn,
    TillReturnLine,
)
from omnimall.pos.services import sales as sale_services

from .scope import narrow_to_stores
from .takings import takings_urls

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse
    from django.urls import URLPattern

FORM_TEMPLATE = "admin/inventory/form_page.html"


class MemberSearchMixin(members_admin_points.MemberSearchMixin):
    search_help_text = _(
        "Receipt number, or the member's card number or mobile (in any usual form)."
    )


def _method_label(code: str) -> str:
    """A payment method's name in the staff member's language (its code if unknown)."""
    return str(PaymentMethod(code).label) if code in PaymentMethod.values else code


def _flag_details(flag: dict[str, Any]) -> list[str]:
    """A flag's figures as sentences (it is stored as JSON for the API and the record)."""
    details = [
        gettext("line %(line)s, %(sku)s: %(short)s unit(s) short")
        % {
            "line": line.get("line_no", "?"),
            "sku": line.get("sku", "?"),
            "short": line.get("short"),
        }
        for line in flag.get("lines") or ()
        if isinstance(line, dict)
    ]
    if flag.get("code") == "points_shortfall":
        details.append(
            gettext("%(reversed)s of the %(points)s points earned could be taken back")
            % {"reversed": flag.get("reversed", 0), "points": flag.get("points", 0)}
        )
    elif "points" in flag:
        details.append(gettext("%(points)s points") % {"points": flag["points"]})
    if flag.get("resolution") or flag.get("resolved_by"):
        details.append(
            gettext("resolved by %(who)s: %(note)s")
            % {"who": flag.get("resolved_by") or "—", "note": flag.get("resolution") or "—"}
        )
    return details


def _flag_lines(flags: list[dict[str, Any]]) -> str:
    if not flags:
        return "—"
    return format_html_join(
        "",
        "<div><strong>{}</strong>: {}{}</div>",
        (
            (
                flag.get("code", ""),
                flag.get("message", ""),
                format_html_join("", "<br>– {}", ((detail,) for detail in _flag_details(flag))),
            )
            for flag in flags
        ),
    )


class ReceiptLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReceiptLine
    extra = 0
    fields = (
        "line_no",
        "sku_code",
        "quantity",
        "unit_price",
        "discount",
        "line_total",
        "points_earned",
        "quantity_returned",
    )
    readonly_fields = fields


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=500,
        help_text=_("E.g. stock counted and corrected, points settled with the member."),
    )


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdminMixin, MemberSearchMixin):
    list_display = (
        "number",
        "store",
        "occurred_at",
        "member",
        "total",
        "points_spent",
        "points_earned",
        "state",
        "source",
    )
    list_filter = ("state", "source", "store")
    list_select_related = ("store", "member")
    search_fields = ("number", "member__card_number", "member__phone")
    date_hierarchy = "occurred_at"
    inlines = (ReceiptLineInline,)
    change_list_template = "pos/admin/receipt_change_list.html"  # links the takings report
    fields = (
        "store",
        "number",
        "occurred_at",
        "member",
        "currency",
        "total",
        "discount_total",
        "payments_shown",
        "points_spent",
        "points_earned",
        "state",
        "flags_shown",
        "source",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Receipt]:
        return narrow_to_stores(request, super().get_queryset(request))

    @admin.display(description=_("payments"))
    def payments_shown(self, obj: Receipt) -> str:
        return format_html_join(
            "",
            "<div>{}{} {}{}</div>",
            (
                (
                    _method_label(p.get("method", "")),
                    # A receipt recorded before methods were codes: what its till wrote.
                    f" ({p['method_as_written']})" if p.get("method_as_written") else "",
                    p.get("amount", ""),
                    f" ({p['points']} points)" if p.get("points") else "",
                )
                for p in obj.payments or ()
            ),
        )

    @admin.display(description=_("needs attention"))
    def flags_shown(self, obj: Receipt) -> str:
        return _flag_lines(obj.flags or [])

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        own = [
            path(
                "flagged/",
                self.admin_site.admin_view(self.flagged_view),
                name="{}_{}_flagged".format(*info),
            ),
            path(
                "<int:receipt_id>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="{}_{}_resolve".format(*info),
            ),
        ]
        return [*own, *takings_urls(self), *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        flagged = self.get_queryset(request).filter(state=ReceiptState.FLAGGED).count()
        if flagged and "state__exact" not in request.GET:
            messages.warning(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    gettext("%(count)d receipt(s) need attention.") % {"count": flagged},
                    reverse("admin:pos_receipt_flagged"),
                    gettext("Show them"),
                ),
            )
        return super().changelist_view(request, extra_context)

    def flagged_view(self, request: HttpRequest) -> HttpResponse:
        """The work list: flagged receipts in the staff member's scope, oldest first."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        receipts = list(
            self.get_queryset(request)
            .filter(state=ReceiptState.FLAGGED)
            .order_by("occurred_at", "id")[:500]
        )
        can_resolve = request.user.has_perm("pos.change_receipt")
        rows = [
            format_html(
                '<a href="{}">{}</a> · {} · {} · {}{}',
                reverse("admin:pos_receipt_change", args=[r.pk]),
                r.number,
                r.store.code,
                timezone.localtime(r.occurred_at).strftime("%Y-%m-%d %H:%M"),  # shop time
                _flag_lines(r.flags or []),
                format_html(
                    ' <a class="button" href="{}">{}</a>',
                    reverse("admin:pos_receipt_resolve", args=[r.pk]),
                    gettext("Resolve"),
                )
                if can_resolve
                else "",
            )
            for r in receipts
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Receipts that need attention"),
            "intro": gettext(
                "Receipts applied with a problem: stock short at the store (count it), or "
                "points no longer available when a late receipt arrived (settle with the "
                "member). Resolve each once dealt with."
            )
            if rows
            else gettext("No receipt needs attention."),
            "objects": rows,
        }
        return TemplateResponse(request, FORM_TEMPLATE, context)

    def resolve_view(self, request: HttpRequest, receipt_id: int) -> HttpResponse:
        if not request.user.has_perm("pos.change_receipt"):
            raise PermissionDenied
        receipt = self.get_queryset(request).filter(pk=receipt_id).first()
        if receipt is None:
            raise Http404
        form = ResolveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                sale_services.resolve_flagged_receipt(
                    receipt_id=receipt.pk,
                    actor=Actor.from_user(request.user),
                    note=form.cleaned_data["note"],
                )
            except DomainError as refused:
                messages.error(request, refused.message)
            else:
                messages.success(request, gettext("Receipt %s resolved.") % receipt.number)
            return HttpResponseRedirect(reverse("admin:pos_receipt_flagged"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": receipt,
            "title": gettext("Resolve receipt %s") % receipt.number,
            "intro": _flag_lines(receipt.flags or []),
            "form": form,
            "submit_label": gettext("Mark resolved"),
        }
        return TemplateResponse(request, FORM_TEMPLATE, context)


class TillReturnLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TillReturnLine
    extra = 0
    fields = ("receipt_line", "sku", "quantity", "amount")
    readonly_fields = fields


@admin.register(TillReturn)
class TillReturnAdmin(ReadOnlyAdminMixin, MemberSearchMixin):
    list_display = (
        "number",
        "store",
        "occurred_at",
        "receipt",
        "member",
        "refund_total",
        "refund_method",
        "points_reversed",
        "points_restored",
        "authorised_by",
    )
    list_filter = ("store", "refund_method")
    list_select_related = ("store", "receipt", "member")
    search_fields = ("number", "receipt__number", "member__card_number", "member__phone")
    search_help_text = _(
        "Return or receipt number, or the member's card number or mobile (in any usual form)."
    )
    date_hierarchy = "occurred_at"
    inlines = (TillReturnLineInline,)
    fields = (
        "store",
        "number",
        "occurred_at",
        "receipt",
        "member",
        "reason",
        "authorised_by",
        "refund_total",
        "refund_method",
        "points_reversed",
        "points_restored",
        "flags_shown",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[TillReturn]:
        return narrow_to_stores(request, super().get_queryset(request))

    @admin.display(description=_("needs attention"))
    def flags_shown(self, obj: TillReturn) -> str:
        return _flag_lines(obj.flags or [])
