"""Stock locations (with the staff who work there) and channel safety stock.

Both are edited by logistics; every save, and every change of a location's staff, is in
the audit trail. Store staff see only their own stores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth import get_user_model

from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.core.admin import AuditedAdminMixin, change_reason_of
from omnimall.inventory import services
from omnimall.inventory.models import ChannelSafetyStock, StockLocation

from .filters import LocationFilter
from .scope import scope_of

if TYPE_CHECKING:
    from django import forms
    from django.db import models
    from django.db.models import ManyToManyField, QuerySet
    from django.forms import ModelMultipleChoiceField
    from django.http import HttpRequest


def _usernames(location: StockLocation) -> list[str]:
    return sorted(location.staff.values_list("username", flat=True))


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
    filter_horizontal = ("staff",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockLocation]:
        return scope_of(request).narrow(super().get_queryset(request), "pk")

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField | None:
        if db_field.name == "staff":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        # The admin runs this inside the page's transaction, right after the row is saved.
        location = form.instance
        before = _usernames(location) if change else []
        super().save_related(request, form, formsets, change)
        after = _usernames(location)
        if before != after:
            audit.record(
                actor=Actor.from_user(request.user),
                action="stocklocation.staff_changed",
                subject=location,
                changes={"staff": [before, after]},
                reason=change_reason_of(form),
            )


@admin.register(ChannelSafetyStock)
class ChannelSafetyStockAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Units a sales channel keeps back at a location (or everywhere); audited."""

    list_display = ("channel", "location", "units")
    list_select_related = ("channel", "location")
    list_filter = ("channel", LocationFilter)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A rule is the channel × location pair: change its units, or add another rule.
        return ("channel", "location") if obj is not None else ()

    def audited_save(self, *, instance: models.Model, actor: Actor, reason: str) -> None:
        if not isinstance(instance, ChannelSafetyStock):
            raise TypeError(instance)
        saved = services.set_channel_safety_stock(
            channel_code=instance.channel.code,
            location_id=instance.location_id,
            units=instance.units,
            actor=actor,
        )
        instance.pk = saved.pk  # the admin goes on with this object (log entry, redirect)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChannelSafetyStock]:
        queryset = super().get_queryset(request)
        scope = scope_of(request)
        if scope.everywhere:
            return queryset
        return scope.narrow(queryset, "location_id")
