from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    ONLINE = "online", _("own online mall")
    STORE = "store", _("physical stores")
    MARKETPLACE = "marketplace", _("marketplace shop")
    AFFILIATE = "affiliate", _("affiliate")


class SalesChannel(models.Model):
    """Where a sale happens. Each channel has its own price list and currency."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=ChannelKind.choices)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("sales channel")
        verbose_name_plural = _("sales channels")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
