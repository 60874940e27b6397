"""Inventory test data: locations, and SKUs from the catalog factories."""

from __future__ import annotations

import itertools
from decimal import Decimal

from omnimall.catalog.models import Category, Sku
from omnimall.core.actors import Actor
from omnimall.inventory.models import LocationKind, StockLevel, StockLocation
from tests.catalog.factories import make_category, make_product

STOCK_ACTOR = Actor.system("inventory-tests")
_numbers = itertools.count(1)


def make_location(
    code: str | None = None, *, kind: str = LocationKind.WAREHOUSE, **fields: object
) -> StockLocation:
    n = next(_numbers)
    code = code or f"loc-{n}"
    defaults: dict[str, object] = {
        "name_en": f"Location {code}",
        "name_zh": f"仓库{code}",
        "kind": kind,
        "city": "Shanghai",
    }
    defaults.update(fields)
    return StockLocation.objects.create(code=code, **defaults)


def make_pickup_store(code: str, **fields: object) -> StockLocation:
    """A Shanghai store that offers pick-up and does not ship, with what a shopper is
    shown of it (name, address, opening hours, where it is on the map)."""
    defaults: dict[str, object] = {
        "can_ship": False,
        "offers_pickup": True,
        "latitude": Decimal("31.2195"),
        "longitude": Decimal("121.475"),
        "name_en": "Nanjing Road Store",
        "name_zh": "南京路店",
        "address": "1 Nanjing Road",
        "opening_hours": "10:00-22:00",
    }
    defaults.update(fields)
    return make_location(code, kind=LocationKind.STORE, **defaults)


def make_skus(count: int = 1, *, category: Category | None = None) -> list[Sku]:
    """``count`` SKUs of one new product."""
    category = category or make_category(f"inv-cat-{next(_numbers)}")
    sizes = ("S", "M", "L", "XL", "XXL", "XS")
    product = make_product(
        category=category, variants=tuple((sizes[i], "black", "99.00") for i in range(count))
    )
    return list(product.skus.order_by("position"))


def level_of(location: StockLocation, sku: Sku) -> StockLevel:
    return StockLevel.objects.get(location=location, sku=sku)
