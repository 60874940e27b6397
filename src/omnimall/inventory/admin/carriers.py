"""Parcel carriers: how shoppers read a shipment's carrier and where they track it.

Logistics keeps the list; every change is audited. Shipments are never refused for an
unknown carrier: they show as reported until the carrier is added here.
"""

from __future__ import annotations

from django.contrib import admin

from omnimall.core.admin import AuditedAdminMixin
from omnimall.inventory.models import Carrier


@admin.register(Carrier)
class CarrierAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "aliases", "tracking_url")
    search_fields = ("code", "name_zh", "name_en", "aliases")
    fields = ("code", "name_zh", "name_en", "aliases", "tracking_url")
