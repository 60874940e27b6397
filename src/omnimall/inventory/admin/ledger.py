"""The movement ledger and the reservations: read-only, narrowed to the user's locations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from omnimall.catalog.selectors import sku_ids_by_code_or_barcode
from omnimall.core.admin import ReadOnlyAdminMixin, local_time
from omnimall.inventory.models import Reservation, StockMovement

from .filters import LevelFilter, MovementLocationFilter
from .labels import LabelledPagesMixin, level_label, movement_label, reservation_label
from .scope import scope_of

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest
    from django.utils.safestring import SafeString


class _ReadOnlyAdmin(ReadOnlyAdminMixin, LabelledPagesMixin):
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

    @admin.display(description=_("stock level"))
    def level_link(self, row: Any) -> SafeString:
        url = reverse("admin:inventory_stocklevel_change", args=[row.level_id])
        return format_html('<a href="{}">{}</a>', url, level_label(row.level))

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        # The page names the level by SKU and location: load them with the row.
        if not str(object_id).isdigit():
            return None
        queryset = self.get_queryset(request).select_related("level__sku", "level__location")
        return queryset.filter(pk=int(object_id)).first()


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
    fields = (
        "created_at",
        "level_link",
        "kind",
        "quantity",
        "reason",
        "actor_kind",
        "actor_label",
        "reference",
        "reservation_shown",
    )
    readonly_fields = fields

    def object_label(self, obj: Any) -> str:
        return movement_label(obj)

    @admin.display(description=_("reservation"))
    def reservation_shown(self, movement: StockMovement) -> str:
        reservation = movement.reservation
        return "—" if reservation is None else str(reservation.reference or reservation.owner_id)

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
    search_help_text = _("Exact order number or reference, or the beginning of a SKU code.")
    fields = (
        "level_link",
        "quantity",
        "state",
        "owner_type",
        "owner_id",
        "reference",
        "expires_at",
        "created_at",
        "changed_at",
    )
    readonly_fields = fields

    def object_label(self, obj: Any) -> str:
        return reservation_label(obj)

    @admin.display(description=_("last changed (state or expiry)"))
    def changed_at(self, reservation: Reservation) -> str:
        return local_time(reservation.updated_at)
