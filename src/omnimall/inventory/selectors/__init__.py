"""Stock reads shared by pages, APIs and checks. They return dataclasses, never querysets."""

from .stock import (
    LocationAvailability,
    SkuAvailability,
    get_sku_availability,
    iter_level_balances,
    list_availability_by_location,
    list_sku_availability,
)

__all__ = [
    "LocationAvailability",
    "SkuAvailability",
    "get_sku_availability",
    "iter_level_balances",
    "list_availability_by_location",
    "list_sku_availability",
]
