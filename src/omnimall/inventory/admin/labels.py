"""How the stock pages name a level, a movement or a reservation: SKU code and location
name, never row ids.

The models' ``__str__`` (``17@3: 6 on hand, 0 reserved``) is for logs; Django's admin
would put it in titles, breadcrumbs and read-only foreign keys. ``LabelledPagesMixin``
gives the change and history pages the label instead (the templates
``admin/inventory/change_form.html`` and ``object_history.html`` read ``object_label``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.utils.translation import get_language, gettext

from omnimall.inventory.models import StockLevel

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from omnimall.inventory.models import Reservation, StockLocation, StockMovement


def location_name(location: StockLocation) -> str:
    """The location's name in the page's language (its code when it has none)."""
    zh = (get_language() or "").startswith("zh")
    return (location.name_zh if zh else location.name_en) or location.name_en or location.code


def level_label(level: StockLevel) -> str:
    """``TEE-BLK-M @ Shanghai Nanjing Road``."""
    return f"{level.sku.code} @ {location_name(level.location)}"


def movement_label(movement: StockMovement) -> str:
    """``transfer out -3 · TEE-BLK-M @ Shanghai Nanjing Road``."""
    return f"{movement.get_kind_display()} {movement.quantity:+d} · {level_label(movement.level)}"


def reservation_label(reservation: Reservation) -> str:
    return gettext("%(quantity)d × %(level)s, %(state)s") % {
        "quantity": reservation.quantity,
        "level": level_label(reservation.level),
        "state": reservation.get_state_display(),
    }


def stock_level_labels(ids: list[str]) -> dict[str, str]:
    """Labels of the stock levels ``ids`` (audit trail subjects), in one query."""
    levels = StockLevel.objects.filter(pk__in=[int(i) for i in ids if i.isdigit()])
    return {str(level.pk): level_label(level) for level in levels.select_related("sku", "location")}


class LabelledPagesMixin(admin.ModelAdmin):
    """The change and history pages of a model whose ``__str__`` shows row ids."""

    def object_label(self, obj: Any) -> str:
        return str(obj)

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
            context["subtitle"] = context["object_label"] = self.object_label(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        labels: dict[str, Any] = {}
        if obj is not None:
            label = self.object_label(obj)
            labels = {"title": gettext("Change history: %s") % label, "object_label": label}
        return super().history_view(request, object_id, {**labels, **(extra_context or {})})
