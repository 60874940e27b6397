"""Carts in the back office: read-only, for support ("what was in my bag?").

Nothing here writes: carts change only through ``checkout.services.carts`` (the shopper's
pages and the Store API). The token is shown shortened: it is the key to a guest's cart.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from omnimall.checkout.models import Cart, CartLine
from omnimall.core.admin import ReadOnlyAdminMixin


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
