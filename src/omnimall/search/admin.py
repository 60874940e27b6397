from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import ZeroResultQuery


@admin.register(ZeroResultQuery)
class ZeroResultQueryAdmin(admin.ModelAdmin):
    """What shoppers searched for and did not find: gaps in the catalog or its wording."""

    list_display = ("query", "count", "first_seen", "last_seen")
    ordering = ("-count", "-last_seen")
    search_fields = ("query",)
    list_filter = (("last_seen", admin.DateFieldListFilter),)
    date_hierarchy = "last_seen"
    readonly_fields = ("query", "count", "first_seen", "last_seen")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded by searches, not typed in

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
