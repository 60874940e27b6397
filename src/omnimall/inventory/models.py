from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("warehouse")
    STORE = "store", _("store")


class StockLocation(models.Model):
    """A warehouse or a store that holds stock. Stock levels and the ledger come with issue #3."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=LocationKind.choices)
    city = models.CharField(_("city"), max_length=60, db_index=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    opening_hours = models.CharField(_("opening hours"), max_length=120, blank=True)
    can_ship = models.BooleanField(_("can ship"), default=True)
    offers_pickup = models.BooleanField(_("offers pick-up"), default=False)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower ships first.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"
