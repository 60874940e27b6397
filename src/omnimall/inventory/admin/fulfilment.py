"""Fulfilment requests with their lines and shipments: read-only, and printable (packing
slips, pick list: ``slips``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from omnimall.core.admin import ReadOnlyAdminMixin, local_time
from omnimall.inventory.models import FulfilmentLine, FulfilmentRequest, Shipment

from .filters import LocationFilter
from .scope import scope_of
from .slips import print_redirect, slip_urls

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse
    from django.urls import URLPattern
    from django.utils.safestring import SafeString


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0


class FulfilmentLineInline(_ReadOnlyInline):
    model = FulfilmentLine
    fields = ("sku_code", "quantity", "hold", "shipment")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FulfilmentLine]:
        return super().get_queryset(request).select_related("sku", "shipment", "reservation")

    @admin.display(description=_("SKU"))
    def sku_code(self, line: FulfilmentLine) -> str:
        return line.sku.code

    @admin.display(description=_("hold"))
    def hold(self, line: FulfilmentLine) -> SafeString | str:
        """The line's reservation by its state (was its row id), linked to its page."""
        reservation = line.reservation
        if reservation is None:
            return "—"
        url = reverse("admin:inventory_reservation_change", args=[reservation.pk])
        return format_html('<a href="{}">{}</a>', url, reservation.get_state_display())


class ShipmentInline(_ReadOnlyInline):
    model = Shipment
    fields = ("carrier", "tracking_number", "shipped_at", "created_at")
    readonly_fields = fields


class NoteFilter(admin.SimpleListFilter):
    """The requests whose shopper wrote a note to the shop (买家留言), which packers read."""

    title = _("note from the shopper")
    parameter_name = "noted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("With a note")), ("no", _("Without"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[FulfilmentRequest]
    ) -> QuerySet[FulfilmentRequest]:
        if self.value() == "yes":
            return queryset.exclude(note="")
        if self.value() == "no":
            return queryset.filter(note="")
        return queryset


@admin.register(FulfilmentRequest)
class FulfilmentRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "location",
        "method",
        "state",
        "reference",
        "line_count",
        "short_note",
        "created_at",
    )
    list_select_related = ("location",)
    list_filter = ("state", "method", LocationFilter, NoteFilter)
    search_fields = ("^number", "^reference")
    search_help_text = _("Request number or reference ('order 261127482193'), or their beginning.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    inlines = (FulfilmentLineInline, ShipmentInline)
    actions = ("print_packing_slips", "print_pick_list")
    readonly_fields = (
        "number",
        "location",
        "method",
        "state",
        "reference",
        "owner_type",
        "owner_id",
        "recipient",
        "note",
        "rejection_reason",
        "created_at",
        "state_changed_at",
    )
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FulfilmentRequest]:
        queryset = super().get_queryset(request).annotate(line_total=Count("lines"))
        return scope_of(request).narrow(queryset, "location_id")

    def get_urls(self) -> list[URLPattern]:
        return [*slip_urls(self), *super().get_urls()]

    @admin.action(description=_("Print packing slips"), permissions=["view"])
    def print_packing_slips(
        self, request: HttpRequest, queryset: QuerySet[FulfilmentRequest]
    ) -> HttpResponse | None:
        return print_redirect(self, request, queryset, page="packing_slips")

    @admin.action(description=_("Print pick list"), permissions=["view"])
    def print_pick_list(
        self, request: HttpRequest, queryset: QuerySet[FulfilmentRequest]
    ) -> HttpResponse | None:
        return print_redirect(self, request, queryset, page="pick_list")

    @admin.display(description=_("state last changed"))
    def state_changed_at(self, request_row: FulfilmentRequest) -> str:
        return local_time(request_row.updated_at)  # saved only with a new state

    @admin.display(description=_("ship to"))
    def recipient(self, request_row: FulfilmentRequest) -> SafeString | str:
        """Name and phone, then the address as written on a parcel (was the JSON)."""
        to = request_row.ship_to if isinstance(request_row.ship_to, dict) else {}
        if not to:
            return "—"
        place = " ".join(
            str(to.get(key) or "") for key in ("province", "city", "district", "street")
        ).strip()
        postal = f" {to['postal_code']}" if to.get("postal_code") else ""
        if not place:
            return format_html("{} {}", to.get("name", ""), to.get("phone", ""))
        return format_html("{} {}<br>{}{}", to.get("name", ""), to.get("phone", ""), place, postal)

    @admin.display(description=_("note from the shopper"))
    def short_note(self, request_row: FulfilmentRequest) -> str:
        """Its first words: the whole note is on the request's page and its slip."""
        return Truncator(request_row.note).chars(24) or "—"

    @admin.display(description=_("lines"), ordering="line_total")
    def line_count(self, request_row: FulfilmentRequest) -> int:
        return int(request_row.line_total)  # type: ignore[attr-defined]
