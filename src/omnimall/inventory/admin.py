from django.contrib import admin

from omnimall.core.admin import AuditedAdminMixin

from .models import StockLocation


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
