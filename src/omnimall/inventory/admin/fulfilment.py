"""Fulfilment requests with their lines and shipments: read-only for now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from omnimall.core.admin import ReadOnlyAdminMixin
from omnimall.inventory.models import FulfilmentLine, FulfilmentRequest, Shipment

from .filters import LocationFilter
from .scope import scope_of

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0


class FulfilmentLineInline(_ReadOnlyInline):
    model = FulfilmentLine
    fields = ("sku_code", "quantity", "reservation_id", "shipment")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FulfilmentLine]:
        return super().get_queryset(request).select_related("sku", "shipment")

    @admin.display(description=_("SKU"))
    def sku_code(self, line: FulfilmentLine) -> str:
        return line.sku.code


class ShipmentInline(_ReadOnlyInline):
    model = Shipment
    fields = ("carrier", "tracking_number", "shipped_at", "created_at")
    readonly_fields = fields


@admin.register(FulfilmentRequest)
class FulfilmentRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "location",
        "method",
        "state",
        "reference",
        "line_count",
        "created_at",
    )
    list_select_related = ("location",)
    list_filter = ("state", "method", LocationFilter)
    search_fields = ("^number", "^reference")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    inlines = (FulfilmentLineInline, ShipmentInline)
    readonly_fields = (
        "number",
        "location",
        "method",
        "state",
        "reference",
        "owner_type",
        "owner_id",
        "ship_to",
        "rejection_reason",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FulfilmentRequest]:
        queryset = super().get_queryset(request).annotate(line_total=Count("lines"))
        return scope_of(request).narrow(queryset, "location_id")

    @admin.display(description=_("lines"), ordering="line_total")
    def line_count(self, request_row: FulfilmentRequest) -> int:
        return int(request_row.line_total)  # type: ignore[attr-defined]
