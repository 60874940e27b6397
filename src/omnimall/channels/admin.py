from django.contrib import admin

from omnimall.core.admin import AuditedAdminMixin

from .models import SalesChannel


@admin.register(SalesChannel)
class SalesChannelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Changes are audited (who, before/after, reason) like every other staff change."""

    list_display = ("code", "name", "kind", "currency", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
