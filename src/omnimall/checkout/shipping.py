"""Reading the shipping rates: the default rate (settings) and the zones (cached).

Zones change a few times a year and are read by every checkout, so they are cached under
the version of ``SHIPPING_CACHE_NAMESPACE``, which ``services.shipping`` bumps in the
transaction of every change. The version lives in the database (``core.cache_versions``):
a change made in one worker process is seen by all at their next read, whatever the cache
backend. Pricing takes the version along in its lines query
(``pricing.price_cart``/``price_lines_of``), so a checkout reads the zones with no query of
its own once they are cached; other readers (the help page) pay one primary-key query.

Shared by ``pricing`` (selectors and services) and the admin's form, which may not import
the services.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language, gettext, ngettext

from omnimall.core.cache_versions import current_version

from .domain import ShippingRate
from .models import ShippingZone, ShippingZoneProvince
from .provinces import CODES, province_name

SHIPPING_CACHE_NAMESPACE = "shipping_zones"
CACHE_TIMEOUT = 24 * 60 * 60  # keys carry the version: this only bounds memory


def default_rate() -> ShippingRate:
    """The rate of provinces in no zone: ``SHIPPING_FEE``, free from ``FREE_SHIPPING_FROM``
    (read at every call, so a changed setting applies without a cache to clear)."""
    return ShippingRate(
        fee=Decimal(settings.SHIPPING_FEE),
        free_from=Decimal(settings.FREE_SHIPPING_FROM),
        days=settings.SHIPPING_DAYS,
    )


def _load_zones() -> tuple[ShippingRate, ...]:
    """Every zone with its provinces: one query (zones left-joined to their provinces)."""
    rows = ShippingZone.objects.order_by("name_zh", "pk").values_list(
        "pk", "name_zh", "name_en", "fee", "free_from", "delivers", "days_min", "days_max",
        "provinces__province",
    )  # fmt: skip
    zones: dict[int, ShippingRate] = {}
    provinces: dict[int, set[str]] = {}
    for pk, name_zh, name_en, fee, free_from, delivers, fewest, most, province in rows:
        if pk not in zones:
            zones[pk] = ShippingRate(
                fee=fee, free_from=free_from, delivers=delivers, zone=name_zh, zone_en=name_en,
                days=(fewest, most) if fewest is not None and most is not None else None,
            )  # fmt: skip
            provinces[pk] = set()
        if province:
            provinces[pk].add(province)
    return tuple(
        dataclasses.replace(zone, provinces=frozenset(provinces[pk])) for pk, zone in zones.items()
    )


def list_zones(*, version: int | None = None) -> tuple[ShippingRate, ...]:
    """Every shipping zone, by name. ``version``: the namespace's version when the caller
    has read it already (pricing, with the cart's lines); None reads it here (1 query). A
    cache miss costs one more."""
    if version is None:
        version = current_version(SHIPPING_CACHE_NAMESPACE)
    # "v2": the cached rates carry their delivery days (an older process's have none).
    key = f"checkout:shipping-zones:v2:{version}"
    zones: tuple[ShippingRate, ...] | None = cache.get(key)
    if zones is None:
        zones = _load_zones()
        cache.set(key, zones, CACHE_TIMEOUT)
    return zones


def delivery_time(rate: ShippingRate) -> str:
    """ "Usually delivered in 2–4 days", in the current language; empty when the rate says
    no time or the shop does not deliver there."""
    if rate.days is None or not rate.delivers:
        return ""
    fewest, most = rate.days
    if fewest == most:
        return ngettext(
            "Usually delivered in %(count)d day", "Usually delivered in %(count)d days", most
        ) % {"count": most}
    return gettext("Usually delivered in %(fewest)d–%(most)d days") % {
        "fewest": fewest,
        "most": most,
    }


def zone_name(rate: ShippingRate) -> str:
    """The zone's name in the current language (the Chinese one when no English is set);
    empty for the default rate."""
    if (get_language() or "zh-hans").startswith("zh"):
        return rate.zone
    return rate.zone_en or rate.zone


def province_names(codes: Iterable[str]) -> list[str]:
    """Short province names in the current language, in the order of the province list."""
    zh = (get_language() or "zh-hans").startswith("zh")
    wanted = set(codes)
    return [province_name(code, zh=zh) for code in CODES if code in wanted]


def find_province_conflicts(*, provinces: Iterable[str], zone_id: int | None) -> dict[str, str]:
    """``{province code: zone name}`` for those of ``provinces`` another zone already
    holds (1 query; the database's unique constraint is the backstop)."""
    rows = (
        ShippingZoneProvince.objects.filter(province__in=list(provinces))
        .exclude(zone_id=zone_id)
        .values_list("province", "zone__name_zh")
    )
    return dict(rows)
