from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from omnimall.core.admin import AuditedAdminMixin

from .models import Reservation, StockLevel, StockLocation, StockMovement


@admin.register(StockLocation)
class StockLocationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Warehouses and stores. Logistics may edit them; every change is audited."""

    list_display = (
        "code",
        "name_en",
        "name_zh",
        "kind",
        "city",
        "can_ship",
        "offers_pickup",
        "priority",
        "is_active",
    )
    list_filter = ("kind", "city", "can_ship", "offers_pickup", "is_active")
    search_fields = ("code", "name_en", "name_zh", "city", "address")


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Stock counters and the ledger change only through ``inventory.services``."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(StockLevel)
class StockLevelAdmin(_ReadOnlyAdmin):
    list_display = ("sku", "location", "on_hand", "reserved", "safety_stock", "updated_at")
    list_filter = ("location",)
    list_select_related = ("sku", "location")
    search_fields = ("sku__code", "location__code")


@admin.register(StockMovement)
class StockMovementAdmin(_ReadOnlyAdmin):
    list_display = (
        "created_at",
        "level",
        "kind",
        "quantity",
        "reason",
        "actor_label",
        "reference",
    )
    list_filter = ("kind", "level__location")
    list_select_related = ("level",)
    search_fields = ("reference", "level__sku__code", "reason")
    date_hierarchy = "created_at"


@admin.register(Reservation)
class ReservationAdmin(_ReadOnlyAdmin):
    list_display = (
        "pk",
        "level",
        "quantity",
        "state",
        "owner_type",
        "owner_id",
        "expires_at",
        "created_at",
    )
    list_filter = ("state", "owner_type")
    list_select_related = ("level",)
    search_fields = ("owner_id", "reference", "level__sku__code")
