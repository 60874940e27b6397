"""Carts and the shopper's address book.

A cart is addressed by ``token`` (unguessable, ``secrets.token_urlsafe``), never by its
primary key: the Store API and the session hold the token. Lines refer to SKUs and carry
no price: every amount is computed on the server from current prices when the cart is
read (``checkout.pricing``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_LINE_QUANTITY = 20  # per line; more is refused (a shop's "limit per customer")
MAX_LINES = 50


class CartState(models.TextChoices):
    OPEN = "open", _("open")
    MERGED = "merged", _("merged into another cart")
    CHECKED_OUT = "checked_out", _("checked out")


class Cart(models.Model):
    token = models.CharField(_("token"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shopper"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="carts",
    )
    channel_code = models.CharField(_("channel"), max_length=40, default="online")
    state = models.CharField(
        _("state"), max_length=20, choices=CartState.choices, default=CartState.OPEN
    )
    # The store the shopper arrived through (referral link or QR code), for store credit.
    referral_store_code = models.CharField(_("referral store"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        indexes = [models.Index(fields=["user", "state"], name="cart_user_state_idx")]

    def __str__(self) -> str:
        return f"cart {self.token[:8]}…"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.CASCADE)
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cartline_cart_sku_uniq"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, quantity__lte=MAX_LINE_QUANTITY),
                name="cartline_quantity_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku_id}"


class Address(models.Model):
    """A saved address in the Chinese format: province, city, district, street."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    name = models.CharField(_("recipient"), max_length=60)
    phone = models.CharField(_("phone"), max_length=20)
    province = models.CharField(_("province"), max_length=40)
    city = models.CharField(_("city"), max_length=40)
    district = models.CharField(_("district"), max_length=40)
    street = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.province}{self.city}{self.district}{self.street}"


class ShippingZone(models.Model):
    """A delivery rate for some provinces: its fee and free-from threshold, or no delivery
    there at all. Provinces in no zone pay the default rate (settings ``SHIPPING_FEE``,
    ``FREE_SHIPPING_FROM``). Edited in the back office (``services.shipping``)."""

    name_zh = models.CharField(_("name (Chinese)"), max_length=60, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    fee = models.DecimalField(_("delivery fee"), max_digits=10, decimal_places=2, default=0)
    free_from = models.DecimalField(
        _("free from"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Delivery is free for orders of this amount or more. Empty: never free."),
    )
    delivers = models.BooleanField(
        _("delivers"),
        default=True,
        help_text=_("Untick when the shop does not deliver to these provinces at all."),
    )
    # The usual delivery time shown to shoppers (预计送达): both or neither.
    days_min = models.PositiveSmallIntegerField(
        _("delivered in at least (days)"),
        null=True,
        blank=True,
        help_text=_(
            "The usual delivery time, in days once shipped, e.g. 2 to 4. Empty: not shown."
        ),
    )
    days_max = models.PositiveSmallIntegerField(
        _("delivered in at most (days)"), null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("shipping zone")
        verbose_name_plural = _("shipping zones")
        ordering = ["name_zh"]
        constraints = [
            models.CheckConstraint(condition=models.Q(fee__gte=0), name="shippingzone_fee_gte_0"),
            models.CheckConstraint(
                condition=models.Q(free_from__isnull=True) | models.Q(free_from__gte=0),
                name="shippingzone_free_from_gte_0",
            ),
            models.CheckConstraint(
                condition=models.Q(days_min__isnull=True, days_max__isnull=True)
                | models.Q(days_min__gte=1, days_max__gte=models.F("days_min")),
                name="shippingzone_days_both_and_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name_zh


class ShippingZoneProvince(models.Model):
    """One province of a zone, by its code (``checkout.provinces``). Unique: a province
    belongs to one zone at most, whoever saves at the same time."""

    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="provinces")
    province = models.CharField(_("province"), max_length=2)

    class Meta:
        verbose_name = _("shipping zone province")
        verbose_name_plural = _("shipping zone provinces")
        # Rows of their zone: edited with it, never on their own.
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["province"], name="shippingzoneprovince_province_uniq"),
        ]

    def __str__(self) -> str:
        return self.province
