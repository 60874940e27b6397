"""The pages and list actions that change stock levels, each through one stock service.

Adjust stock (any SKU at one of the user's locations), safety stock, flash-sale mode; the
level is always looked up in the user's scope, so another store's level is "not found".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.inventory import services
from omnimall.inventory.models import FlashBucket, MovementKind, StockLevel
from omnimall.inventory.services import flash as flash_services

from .forms import AdjustmentForm, FlashSaleForm, SafetyStockForm
from .labels import level_label
from .pages import error_text, form_page
from .scope import scope_of

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse
    from django.template.response import TemplateResponse


def _flash(*, enable: bool, level_id: int, actor: Actor, buckets: int = 0) -> None:
    if enable:
        flash_services.enable_flash_sale(level_id=level_id, buckets=buckets, actor=actor)
    else:
        flash_services.disable_flash_sale(level_id=level_id, actor=actor)


def flash_state_text(level: StockLevel) -> str:
    rows = list(FlashBucket.objects.filter(level=level).values_list("remaining", flat=True))
    if not rows:
        return gettext("off")
    return gettext("on: %(buckets)d buckets, %(units)d units left in them") % {
        "buckets": len(rows),
        "units": sum(rows),
    }


class LevelPagesAdmin(admin.ModelAdmin):
    """Stock work on levels; ``StockLevelAdmin`` (``levels``) adds the list and the page."""

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.change_stocklevel")

    def has_flash_permission(self, request: HttpRequest) -> bool:
        return self.has_adjust_permission(request) and request.user.has_perm(
            "inventory.change_flashbucket"
        )

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
            extra={"original": level, "original_label": level_label(level)},
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
            intro=flash_state_text(level),
            extra={
                "original": level,
                "original_label": level_label(level),
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
