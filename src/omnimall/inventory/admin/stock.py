"""Stock levels, the movement ledger and reservations in the back office.

Counters are read-only here: they change only through ``inventory.services`` (adjustments,
safety stock, flash-sale mode), from the pages and actions below, each audited by the
service with the staff member as actor. Every list is narrowed to the user's locations
(``scope``); a write at another location is refused with 403 or a form error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.inventory import services
from omnimall.inventory.models import (
    FlashBucket,
    MovementKind,
    Reservation,
    StockLevel,
    StockMovement,
)

from .charts import Bar, on_hand_line_svg, stock_by_location_svg
from .forms import AdjustmentForm, FlashSaleForm, SafetyStockForm, sku_ids_by_code
from .pages import error_text, form_page
from .scope import scope_of

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse
    from django.template.response import TemplateResponse
    from django.utils.safestring import SafeString

CHART_MOVEMENTS = 200
DEFAULT_LOW_STOCK_UNITS = 5


def low_stock_units() -> int:
    """Available units at or below which a level counts as low (besides its safety stock)."""
    return int(getattr(settings, "INVENTORY_LOW_STOCK_UNITS", DEFAULT_LOW_STOCK_UNITS))


def _flash(*, enable: bool, level_id: int, actor: Actor, buckets: int = 0) -> None:
    # Imported on use: flash-sale mode lives in its own service module.
    from omnimall.inventory.services import flash

    if enable:
        flash.enable_flash_sale(level_id=level_id, buckets=buckets, actor=actor)
    else:
        flash.disable_flash_sale(level_id=level_id, actor=actor)


# --- filters ---------------------------------------------------------------------------


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
                % {"units": low_stock_units()},
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
                Q(available__lte=low_stock_units()) | Q(available__lte=F("safety_stock"))
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
        return [] if level is None else [(value, level_label(level))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(level_id=int(value)) if value.isdigit() else queryset.none()


def level_label(level: StockLevel) -> str:
    return f"{level.sku.code} @ {level.location.code}"


# --- stock levels ----------------------------------------------------------------------


def _movements_url(level_id: int) -> str:
    return f"{reverse('admin:inventory_stockmovement_changelist')}?level={level_id}"


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
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
                    "updated_at",
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
        "updated_at",
        "history",
    )

    # -- permissions: the counters are read-only; the stock work has its own rights.

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.change_stocklevel")

    def has_flash_permission(self, request: HttpRequest) -> bool:
        return self.has_adjust_permission(request) and request.user.has_perm(
            "inventory.change_flashbucket"
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

    @admin.display(description=_("flash-sale mode"))
    def flash_state(self, level: StockLevel) -> str:
        rows = list(FlashBucket.objects.filter(level=level).values_list("remaining", flat=True))
        if not rows:
            return gettext("off")
        return gettext("on: %(buckets)d buckets, %(units)d units left in them") % {
            "buckets": len(rows),
            "units": sum(rows),
        }

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
            context["subtitle"] = level_label(obj)
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

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("adjust/", view(self.adjust_view), name="inventory_stocklevel_adjust"),
            path("low-stock/", view(self.low_stock_view), name="inventory_stocklevel_low"),
            path(
                "<int:level_id>/safety-stock/",
                view(self.safety_stock_view),
                name="inventory_stocklevel_safety_stock",
            ),
            path(
                "<int:level_id>/flash-sale/",
                view(self.flash_sale_view),
                name="inventory_stocklevel_flash_sale",
            ),
            *super().get_urls(),
        ]

    def low_stock_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        url = reverse("admin:inventory_stocklevel_changelist")
        return redirect(f"{url}?stock=low")

    def _level_or_404(self, request: HttpRequest, level_id: int) -> StockLevel:
        level = self.get_queryset(request).select_related("sku", "location").filter(pk=level_id)
        found = level.first()
        if found is None:
            raise Http404
        return found

    def _level_url(self, level_id: int) -> str:
        return reverse("admin:inventory_stocklevel_change", args=[level_id])

    def adjust_view(self, request: HttpRequest) -> HttpResponse:
        """Adjust or correct a count: any SKU at one of the user's locations."""
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        scope = scope_of(request)
        initial: dict[str, Any] = {"kind": MovementKind.ADJUSTMENT}
        level_id = request.GET.get("level", "")
        if level_id.isdigit():
            level = self._level_or_404(request, int(level_id))
            initial.update(location=level.location_id, sku=level.sku.code)
        if request.method != "POST":
            form = AdjustmentForm(initial=initial, scope=scope)
        else:
            form = AdjustmentForm(request.POST, scope=scope)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    movement = services.adjust_stock(
                        location_id=data["location"].pk,
                        sku_id=data["sku"],
                        quantity=data["quantity"],
                        reason=data["reason"],
                        reference=data["reference"],
                        kind=MovementKind(data["kind"]),
                        actor=Actor.from_user(request.user),
                    )
                except DomainError as exc:
                    form.add_error(None, error_text(exc))
                else:
                    messages.success(
                        request,
                        gettext("Stock adjusted by %(quantity)+d.")
                        % {"quantity": movement.quantity},
                    )
                    return HttpResponseRedirect(self._level_url(movement.level_id))
        return form_page(
            request,
            model_admin=self,
            title=gettext("Adjust stock"),
            form=form,
            submit_label=gettext("Adjust"),
            intro=gettext(
                "Corrects the units on hand at one location. Every adjustment is a movement "
                "in the ledger and an entry in the audit trail."
            ),
        )

    def safety_stock_view(self, request: HttpRequest, level_id: int) -> HttpResponse:
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        level = self._level_or_404(request, level_id)
        form = SafetyStockForm(
            request.POST if request.method == "POST" else None,
            initial={"safety_stock": level.safety_stock},
        )
        if form.is_bound and form.is_valid():
            services.set_safety_stock(
                location_id=level.location_id,
                sku_id=level.sku_id,
                safety_stock=form.cleaned_data["safety_stock"],
                actor=Actor.from_user(request.user),
            )
            messages.success(request, gettext("Safety stock set."))
            return HttpResponseRedirect(self._level_url(level.pk))
        return form_page(
            request,
            model_admin=self,
            title=gettext("Safety stock of %(level)s") % {"level": level_label(level)},
            form=form,
            submit_label=gettext("Save"),
            extra={"original": level},
        )

    def flash_sale_view(self, request: HttpRequest, level_id: int) -> HttpResponse:
        if not self.has_flash_permission(request):
            raise PermissionDenied
        level = self._level_or_404(request, level_id)
        turn_off = request.method == "POST" and "turn_off" in request.POST
        form = FlashSaleForm(request.POST if request.method == "POST" and not turn_off else None)
        if turn_off or (form.is_bound and form.is_valid()):
            try:
                _flash(
                    enable=not turn_off,
                    level_id=level.pk,
                    buckets=0 if turn_off else form.cleaned_data["buckets"],
                    actor=Actor.from_user(request.user),
                )
            except DomainError as exc:
                messages.error(request, error_text(exc))
            else:
                done = (
                    gettext("Flash-sale mode is off.")
                    if turn_off
                    else gettext("Flash-sale mode is on.")
                )
                messages.success(request, done)
                return HttpResponseRedirect(self._level_url(level.pk))
        return form_page(
            request,
            model_admin=self,
            title=gettext("Flash-sale mode of %(level)s") % {"level": level_label(level)},
            form=form,
            submit_label=gettext("Turn flash-sale mode on"),
            intro=self.flash_state(level),
            extra={
                "original": level,
                "secondary": (
                    [("turn_off", gettext("Turn flash-sale mode off"))]
                    if level.in_flash  # type: ignore[attr-defined]
                    else []
                ),
            },
        )

    # -- actions on the list (their querysets are already narrowed to the user's locations)

    @admin.action(description=_("Set safety stock of the selected levels"), permissions=["adjust"])
    def set_safety_stock_action(
        self, request: HttpRequest, queryset: QuerySet[StockLevel]
    ) -> HttpResponse | None:
        form = SafetyStockForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            actor = Actor.from_user(request.user)
            levels = list(queryset.order_by("pk").values_list("location_id", "sku_id"))
            for location_id, sku_id in levels:
                services.set_safety_stock(
                    location_id=location_id,
                    sku_id=sku_id,
                    safety_stock=form.cleaned_data["safety_stock"],
                    actor=actor,
                )
            messages.success(
                request, gettext("Safety stock set on %(n)d level(s).") % {"n": len(levels)}
            )
            return None
        return self._action_page(
            request,
            queryset,
            form=form,
            action="set_safety_stock_action",
            title=gettext("Set safety stock"),
            submit_label=gettext("Save"),
        )

    @admin.action(description=_("Turn flash-sale mode on"), permissions=["flash"])
    def enable_flash_sale_action(
        self, request: HttpRequest, queryset: QuerySet[StockLevel]
    ) -> HttpResponse | None:
        form = FlashSaleForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._flash_each(request, queryset, enable=True, buckets=form.cleaned_data["buckets"])
            return None
        return self._action_page(
            request,
            queryset,
            form=form,
            action="enable_flash_sale_action",
            title=gettext("Turn flash-sale mode on"),
            submit_label=gettext("Turn on"),
        )

    @admin.action(description=_("Turn flash-sale mode off"), permissions=["flash"])
    def disable_flash_sale_action(
        self, request: HttpRequest, queryset: QuerySet[StockLevel]
    ) -> None:
        self._flash_each(request, queryset, enable=False)

    def _flash_each(
        self,
        request: HttpRequest,
        queryset: QuerySet[StockLevel],
        *,
        enable: bool,
        buckets: int = 0,
    ) -> None:
        actor = Actor.from_user(request.user)
        done = 0
        for level in queryset.select_related("sku", "location").order_by("pk"):
            try:
                _flash(enable=enable, level_id=level.pk, buckets=buckets, actor=actor)
            except DomainError as exc:
                messages.error(request, f"{level_label(level)}: {error_text(exc)}")
            else:
                done += 1
        if done:
            messages.success(
                request,
                gettext("Flash-sale mode changed on %(n)d level(s).") % {"n": done},
            )

    def _action_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[StockLevel],
        *,
        form: Any,
        action: str,
        title: str,
        submit_label: str,
    ) -> TemplateResponse:
        levels = list(queryset.select_related("sku", "location").order_by("pk")[:500])
        hidden = [
            ("action", action),
            *((ACTION_CHECKBOX_NAME, str(lv.pk)) for lv in levels),
        ]
        return form_page(
            request,
            model_admin=self,
            title=title,
            form=form,
            submit_label=submit_label,
            objects=[level_label(level) for level in levels],
            hidden=hidden,
        )


# --- the ledger and the holds ----------------------------------------------------------


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Stock counters and the ledger change only through ``inventory.services``."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_of(request).narrow(super().get_queryset(request), "level__location_id")

    @admin.display(description=_("SKU"), ordering="level__sku__code")
    def sku_code(self, row: Any) -> str:
        return str(row.level.sku.code)

    @admin.display(description=_("location"), ordering="level__location__code")
    def location_code(self, row: Any) -> str:
        return str(row.level.location.code)


@admin.register(StockMovement)
class StockMovementAdmin(_ReadOnlyAdmin):
    list_display = (
        "created_at",
        "sku_code",
        "location_code",
        "kind",
        "quantity",
        "reason",
        "actor_label",
        "reference",
    )
    list_filter = ("kind", MovementLocationFilter, LevelFilter, "created_at")
    list_select_related = ("level__sku", "level__location")
    search_fields = ("reference",)
    search_help_text = _("Reference (exact or its beginning), or an exact SKU code or barcode.")
    list_per_page = 100

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(reference__startswith=term)
        sku_id = sku_ids_by_code({term}).get(term)
        if sku_id is not None:
            match |= Q(level__sku_id=sku_id)
        return queryset.filter(match), False


@admin.register(Reservation)
class ReservationAdmin(_ReadOnlyAdmin):
    list_display = (
        "pk",
        "sku_code",
        "location_code",
        "quantity",
        "state",
        "owner_type",
        "owner_id",
        "expires_at",
        "created_at",
    )
    list_filter = ("state", "owner_type", MovementLocationFilter)
    list_select_related = ("level__sku", "level__location")
    search_fields = ("=owner_id", "=reference", "^level__sku__code")
