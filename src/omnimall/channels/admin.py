from django.contrib import admin

from .models import SalesChannel


@admin.register(SalesChannel)
class SalesChannelAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "currency", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
