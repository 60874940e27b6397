"""Carts and shipping zones in the back office.

Carts are read-only, for support ("what was in my bag?"): they change only through
``checkout.services.carts`` (the shopper's pages and the Store API). The token is shown
shortened: it is the key to a guest's cart.

Shipping zones (logistics) are saved and deleted through ``services.shipping``: audited,
and the storefront's cached rates are retired in the same transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from omnimall.checkout import shipping
from omnimall.checkout.domain import MAX_DELIVERY_DAYS, delivery_days_error
from omnimall.checkout.models import Cart, CartLine, ShippingZone
from omnimall.checkout.provinces import BY_CODE, PROVINCES
from omnimall.checkout.services import shipping as shipping_services
from omnimall.core.actors import Actor
from omnimall.core.admin import (
    CHANGE_REASON,
    AuditedAdminMixin,
    ChangeReasonFormMixin,
    ReadOnlyAdminMixin,
    change_reason_of,
)
from omnimall.core.errors import DomainError

if TYPE_CHECKING:
    from django.db import models
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse


class CartLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CartLine
    fields = ("sku", "quantity", "added_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Cart)
class CartAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("short_token", "user", "state", "channel_code", "referral_store_code",
                    "updated_at")  # fmt: skip
    list_filter = ("state", "channel_code")
    list_select_related = ("user",)
    search_fields = ("=token", "user__username", "user__email", "referral_store_code")
    date_hierarchy = "updated_at"
    fields = ("short_token", "user", "state", "channel_code", "referral_store_code",
              "created_at", "updated_at")  # fmt: skip
    readonly_fields = fields
    inlines = (CartLineInline,)
    show_full_result_count = False

    @admin.display(description=_("cart"))
    def short_token(self, obj: Cart) -> str:
        return f"{obj.token[:8]}…"


# --- shipping zones ----------------------------------------------------------------------


class ShippingZoneForm(ChangeReasonFormMixin, forms.ModelForm):
    provinces = forms.MultipleChoiceField(
        label=_("provinces"),
        choices=[(p.code, f"{p.short_zh} · {p.name_en}") for p in PROVINCES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "A province is in one zone at most. Provinces in no zone pay the default rate "
            "(settings SHIPPING_FEE and FREE_SHIPPING_FROM)."
        ),
    )

    class Meta:
        model = ShippingZone
        fields = (
            "name_zh", "name_en", "provinces", "fee", "free_from", "delivers", "days_min",
            "days_max",
        )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            held = list(self.instance.provinces.values_list("province", flat=True))
            self.initial["provinces"] = [code for code in BY_CODE if code in held]

    def clean_provinces(self) -> list[str]:
        chosen: list[str] = self.cleaned_data["provinces"]
        taken = shipping.find_province_conflicts(provinces=chosen, zone_id=self.instance.pk)
        if taken:
            raise forms.ValidationError(
                [
                    forms.ValidationError(
                        _("%(province)s is already in the zone “%(zone)s”."),
                        params={"province": BY_CODE[code].short_zh, "zone": zone},
                        code="province_in_other_zone",
                    )
                    for code, zone in sorted(taken.items())
                ]
            )
        return chosen

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if delivery_days_error(data.get("days_min"), data.get("days_max")):
            self.add_error(
                "days_max",
                _("Give both numbers of days, from 1 to %(most)d, the smaller first, or neither.")
                % {"most": MAX_DELIVERY_DAYS},
            )
        return data


@admin.register(ShippingZone)
class ShippingZoneAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Delivery rates by province. Logistics edits them; every change is audited."""

    form = ShippingZoneForm
    list_display = (
        "name_zh", "name_en", "province_names", "fee", "free_from", "delivers", "delivery_time",
    )  # fmt: skip
    list_filter = ("delivers",)
    search_fields = ("name_zh", "name_en")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ShippingZone]:
        return super().get_queryset(request).prefetch_related("provinces")

    @admin.display(description=_("delivery time"))
    def delivery_time(self, obj: ShippingZone) -> str:
        if obj.days_min is None or obj.days_max is None:
            return "—"
        if obj.days_min == obj.days_max:
            return f"{obj.days_max}"
        return f"{obj.days_min}–{obj.days_max}"

    @admin.display(description=_("provinces"))
    def province_names(self, obj: ShippingZone) -> str:
        held = {row.province for row in obj.provinces.all()}
        return "、".join(p.short_zh for p in PROVINCES if p.code in held)

    def save_model(
        self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool
    ) -> None:
        if change and not (set(form.changed_data) - {CHANGE_REASON}):
            return
        assert isinstance(obj, ShippingZone)  # noqa: S101 (type narrowing)
        shipping_services.save_shipping_zone(
            zone=obj,
            provinces=form.cleaned_data.get("provinces") or [],
            actor=Actor.from_user(request.user),
            reason=change_reason_of(form),
        )

    def audited_delete(self, *, instance: models.Model, actor: Actor, reason: str) -> None:
        assert isinstance(instance, ShippingZone)  # noqa: S101 (type narrowing)
        shipping_services.delete_shipping_zone(zone=instance, actor=actor, reason=reason)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError:
            # The form checked the zone; a change saved meanwhile took one of its provinces
            # (a rare race). The page's transaction rolled back: say so, show the form again.
            messages.error(
                request,
                _(
                    "Nothing was saved: another change took one of these provinces meanwhile. "
                    "Check the zones and try again."
                ),
            )
            return HttpResponseRedirect(request.get_full_path())
