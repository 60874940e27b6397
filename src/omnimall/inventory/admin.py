from django.contrib import admin

from .models import StockLocation


@admin.register(StockLocation)
class StockLocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "name_zh", "kind", "city", "can_ship", "offers_pickup",
                    "priority", "is_active")
    list_filter = ("kind", "city", "can_ship", "offers_pickup", "is_active")
    search_fields = ("code", "name_en", "name_zh", "city", "address")
