"""The movement ledger and the reservations: read-only, narrowed to the user's locations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from omnimall.catalog.selectors import sku_ids_by_code_or_barcode
from omnimall.core.admin import ReadOnlyAdminMixin
from omnimall.inventory.models import Reservation, StockMovement

from .filters import LevelFilter, MovementLocationFilter
from .scope import scope_of

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest


class _ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Stock counters and the ledger change only through ``inventory.services``."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_of(request).narrow(super().get_queryset(request), "level__location_id")

    @admin.display(description=_("SKU"), ordering="level__sku__code")
    def sku_code(self, row: Any) -> str:
        return str(row.level.sku.code)

    @admin.display(description=_("location"), ordering="level__location__code")
    def location_code(self, row: Any) -> str:
        return str(row.level.location.code)


@admin.register(StockMovement)
class StockMovementAdmin(_ReadOnlyAdmin):
    list_display = (
        "created_at",
        "sku_code",
        "location_code",
        "kind",
        "quantity",
        "reason",
        "actor_label",
        "reference",
    )
    list_filter = ("kind", MovementLocationFilter, LevelFilter, "created_at")
    list_select_related = ("level__sku", "level__location")
    search_fields = ("reference",)
    search_help_text = _("Reference (exact or its beginning), or an exact SKU code or barcode.")
    list_per_page = 100

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(reference__startswith=term)
        sku_id = sku_ids_by_code_or_barcode({term}).get(term)
        if sku_id is not None:
            match |= Q(level__sku_id=sku_id)
        return queryset.filter(match), False


@admin.register(Reservation)
class ReservationAdmin(_ReadOnlyAdmin):
    list_display = (
        "pk",
        "sku_code",
        "location_code",
        "quantity",
        "state",
        "owner_type",
        "owner_id",
        "expires_at",
        "created_at",
    )
    list_filter = ("state", "owner_type", MovementLocationFilter)
    list_select_related = ("level__sku", "level__location")
    search_fields = ("=owner_id", "=reference", "^level__sku__code")
