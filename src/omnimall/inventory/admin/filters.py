"""List filters of the stock pages; their choices come from small tables, never a scan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from omnimall.inventory.domain import LOW_STOCK_THRESHOLD
from omnimall.inventory.models import StockLevel

from .labels import level_label
from .scope import scope_of

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest


class LocationFilter(admin.SimpleListFilter):
    """The user's locations only; choices from the small location table."""

    title = _("location")
    parameter_name = "location"
    field = "location_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        rows = scope_of(request).locations().values_list("pk", "code", "name_en")
        return [(str(pk), f"{code} · {name}") for pk, code, name in rows]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(**{self.field: int(value)})


class MovementLocationFilter(LocationFilter):
    field = "level__location_id"


class CityFilter(admin.SimpleListFilter):
    title = _("city")
    parameter_name = "city"
    field = "location__city"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        cities = (
            scope_of(request).locations().order_by("city").values_list("city", flat=True).distinct()
        )
        return [(city, city) for city in cities]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value not in {city for city, _label in self.lookup_choices}:
            return queryset.none()  # never send junk (a NUL byte…) to the database
        return queryset.filter(**{self.field: value})


class StockStateFilter(admin.SimpleListFilter):
    title = _("stock")
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("in", _("in stock")),
            (
                "low",
                _("low stock (≤ %(units)d available, or ≤ safety stock)")
                % {"units": LOW_STOCK_THRESHOLD},
            ),
            ("out", _("out of stock")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "in":
            return queryset.filter(available__gt=0)
        if value == "out":
            return queryset.filter(available__lte=0)
        if value == "low":
            return queryset.filter(
                Q(available__lte=LOW_STOCK_THRESHOLD) | Q(available__lte=F("safety_stock"))
            )
        return queryset if not value else queryset.none()


class LevelFilter(admin.SimpleListFilter):
    """One level's history (the link on a level's page); shown only while in use."""

    title = _("stock level")
    parameter_name = "level"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        if not value or not value.isdigit():
            return []
        level = (
            scope_of(request)
            .narrow(StockLevel.objects.filter(pk=int(value)), "location_id")
            .select_related("sku", "location")
            .first()
        )
        # An unknown (or another store's) level still filters: to nothing.
        return [(value, "—" if level is None else level_label(level))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(level_id=int(value)) if value.isdigit() else queryset.none()
