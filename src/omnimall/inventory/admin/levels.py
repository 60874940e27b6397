"""Stock levels in the back office: SKU × location with read-only counters.

Counters change only through ``inventory.services`` (adjustments, safety stock, flash-sale
mode), from the pages and actions of ``level_pages``, each audited by the service with the
staff member as actor. Every list is narrowed to the user's locations (``scope``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Exists, F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.admin import ReadOnlyAdminMixin, local_time
from omnimall.inventory.models import FlashBucket, StockLevel, StockMovement

from .charts import Bar, on_hand_line_svg, stock_by_location_svg
from .filters import CityFilter, LocationFilter, StockStateFilter
from .labels import LabelledPagesMixin, level_label
from .level_pages import LevelPagesAdmin, flash_state_text
from .scope import scope_of

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse
    from django.template.response import TemplateResponse
    from django.utils.safestring import SafeString

CHART_MOVEMENTS = 200


# --- stock levels ----------------------------------------------------------------------


def _movements_url(level_id: int) -> str:
    return f"{reverse('admin:inventory_stockmovement_changelist')}?level={level_id}"


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdminMixin, LabelledPagesMixin, LevelPagesAdmin):
    """The counters are read-only; the stock work has its own rights (``level_pages``)."""

    list_display = (
        "sku_code",
        "product_name",
        "location_code",
        "city",
        "on_hand",
        "reserved",
        "safety_stock",
        "available",
        "flash",
        "history",
    )
    list_select_related = ("sku__product", "location")
    list_filter = (LocationFilter, "location__kind", CityFilter, StockStateFilter)
    search_fields = (
        "^sku__code",
        "=sku__barcode",
        "sku__product__name_en",
        "sku__product__name_zh",
    )
    search_help_text = _("SKU code (its beginning), exact barcode, or product name.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    actions = ("set_safety_stock_action", "enable_flash_sale_action", "disable_flash_sale_action")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "sku_code",
                    "product_name",
                    "location",
                    ("on_hand", "reserved", "safety_stock", "available"),
                    "flash_state",
                    "counters_changed_at",
                    "history",
                )
            },
        ),
    )
    readonly_fields = (
        "sku_code",
        "product_name",
        "location",
        "on_hand",
        "reserved",
        "safety_stock",
        "available",
        "flash_state",
        "counters_changed_at",
        "history",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockLevel]:
        # Units in flash-sale buckets count in ``reserved`` but are for sale (services.flash).
        bucketed = FlashBucket.objects.filter(level=OuterRef("pk")).order_by()
        bucketed_units = Coalesce(
            Subquery(
                bucketed.values("level").annotate(total=Sum("remaining")).values("total"),
                output_field=IntegerField(),
            ),
            0,
        )
        # Not super(): its ordering may name the annotation before it exists.
        queryset = StockLevel.objects.annotate(
            in_flash=Exists(bucketed),
            available=Greatest(F("on_hand") - F("reserved") - F("safety_stock"), Value(0))
            + bucketed_units,
        ).order_by(*(self.get_ordering(request) or ()))
        return scope_of(request).narrow(queryset, "location_id")

    # -- columns

    @admin.display(description=_("SKU"), ordering="sku__code")
    def sku_code(self, level: StockLevel) -> str:
        return level.sku.code

    @admin.display(description=_("product"))
    def product_name(self, level: StockLevel) -> str:
        return level.sku.product.name_en

    @admin.display(description=_("location"), ordering="location__code")
    def location_code(self, level: StockLevel) -> str:
        return level.location.code

    @admin.display(description=_("city"), ordering="location__city")
    def city(self, level: StockLevel) -> str:
        return level.location.city

    @admin.display(description=_("available"), ordering="available")
    def available(self, level: StockLevel) -> int:
        return int(level.available)  # type: ignore[attr-defined]

    @admin.display(description=_("flash sale"), boolean=True)
    def flash(self, level: StockLevel) -> bool:
        return bool(level.in_flash)  # type: ignore[attr-defined]

    @admin.display(description=_("movements"))
    def history(self, level: StockLevel) -> SafeString:
        return format_html('<a href="{}">{}</a>', _movements_url(level.pk), gettext("history"))

    @admin.display(description=_("counters last changed"))
    def counters_changed_at(self, level: StockLevel) -> str:
        return local_time(level.updated_at)  # every counter update sets it (services)

    @admin.display(description=_("flash-sale mode"))
    def flash_state(self, level: StockLevel) -> str:
        return flash_state_text(level)

    def on_hand_chart(self, level: StockLevel) -> SafeString:
        recent = list(
            StockMovement.objects.filter(level=level)
            .order_by("-created_at", "-id")
            .values_list("created_at", "quantity")[:CHART_MOVEMENTS]
        )
        after = level.on_hand
        points = []
        for moment, quantity in recent:  # newest first: walk back from today's figure
            points.append((moment, after))
            after -= quantity
        if recent:
            points.append((recent[-1][0], after))
        points.reverse()
        if points:
            points.append((max(level.updated_at, points[-1][0]), level.on_hand))
        return on_hand_line_svg(points, title=gettext("On hand over time"))

    def by_location_chart(self, request: HttpRequest, level: StockLevel) -> SafeString:
        levels = scope_of(request).narrow(
            StockLevel.objects.filter(sku_id=level.sku_id).select_related("location"),
            "location_id",
        )
        bars = [
            Bar(
                label=other.location.code,
                on_hand=other.on_hand,
                reserved=other.reserved,
                highlight=other.pk == level.pk,
            )
            for other in levels.order_by("location__priority", "location__code")[:40]
        ]
        return stock_by_location_svg(bars, title=gettext("On hand (reserved) by location"))

    # -- pages

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        extra = {"can_adjust": self.has_adjust_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra)  # type: ignore[return-value]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = {
            "can_adjust": self.has_adjust_permission(request),
            "can_flash": self.has_flash_permission(request),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        # The page's SKU, product and location in the same query (the default loads lazily).
        if not str(object_id).isdigit():
            return None
        queryset = self.get_queryset(request).select_related("sku__product", "location")
        return queryset.filter(pk=int(object_id)).first()

    def object_label(self, obj: Any) -> str:
        return level_label(obj)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """A level's history is its movements (no admin form ever changes a level)."""
        level = self.get_object(request, object_id)
        if level is None:
            return super().history_view(request, object_id, extra_context)
        return HttpResponseRedirect(_movements_url(level.pk))

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            context["charts"] = [
                (gettext("On hand over time"), self.on_hand_chart(obj)),
                (
                    gettext("This SKU at every location: on hand (reserved)"),
                    self.by_location_chart(request, obj),
                ),
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_ordering(self, request: HttpRequest) -> Any:
        if request.GET.get("stock") in ("low", "out"):
            return ("available", "location_id", "sku_id")  # most urgent first
        return super().get_ordering(request)
