"""Store API: per-SKU availability of a product, for delivery and per store.

Public (no API key), like the catalog reads. Never cached: stock moves with every sale,
and the answer costs the cached product lookup plus two indexed queries.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from omnimall.catalog import selectors as catalog_selectors
from omnimall.core.api.errors import ErrorOut
from omnimall.core.errors import NotFoundError
from omnimall.inventory.selectors.allocation import (
    ProductAvailability,
    SkuStock,
    StoreStock,
    product_availability,
)

router = Router(tags=["availability"])


class AvailabilityParams(Schema):
    city: str = Field(
        "",
        max_length=60,
        description=(
            "The shopper's city (English or Chinese name). Stores come nearest first with "
            "their distance; a city we cannot place is ignored."
        ),
    )


class CityOut(Schema):
    name: str
    name_en: str
    name_zh: str


class DeliveryOut(Schema):
    state: str = Field(description="in_stock, low_stock (≤ 5 units) or out_of_stock")
    available: int


class PickupOut(Schema):
    store_count: int = Field(description="stores holding at least one unit")
    nearby_store_count: int | None = Field(
        description="of those, stores within 50 km of the city (null without a city)"
    )


class StoreAvailabilityOut(Schema):
    code: str
    name: str
    city: str
    address: str
    opening_hours: str
    distance_km: float | None
    state: str
    available: int


class SkuAvailabilityOut(Schema):
    sku: str
    size: str
    colour: str
    delivery: DeliveryOut
    pickup: PickupOut
    stores: list[StoreAvailabilityOut]


class ProductAvailabilityOut(Schema):
    product: str
    city: CityOut | None
    skus: list[SkuAvailabilityOut]


def _store_out(stock: StoreStock) -> dict[str, Any]:
    store = stock.store
    return {
        "code": store.code,
        "name": store.name,
        "city": store.city,
        "address": store.address,
        "opening_hours": store.opening_hours,
        "distance_km": stock.distance_km,
        "state": str(stock.state),
        "available": stock.available,
    }


def _sku_out(code: str, size: str, colour: str, stock: SkuStock) -> dict[str, Any]:
    return {
        "sku": code,
        "size": size,
        "colour": colour,
        "delivery": {"state": str(stock.delivery_state), "available": stock.delivery_available},
        "pickup": {
            "store_count": stock.pickup_store_count,
            "nearby_store_count": stock.nearby_store_count,
        },
        "stores": [_store_out(s) for s in stock.stores],
    }


def _product_out(slug: str, skus: Any, found: ProductAvailability) -> dict[str, Any]:
    city = found.city
    return {
        "product": slug,
        "city": None
        if city is None
        else {"name": city.name, "name_en": city.name_en, "name_zh": city.name_zh},
        "skus": [_sku_out(s.code, s.size, s.colour, found.skus[s.id]) for s in skus],
    }


@router.get(
    "/products/{slug}/availability",
    response={200: ProductAvailabilityOut, 404: ErrorOut, 422: ErrorOut},
    summary="Product availability",
)
def get_product_availability(
    request: HttpRequest, slug: str, params: Query[AvailabilityParams]
) -> dict[str, Any]:
    """Each active SKU's stock for delivery and at every pick-up store, nearest first."""
    # A control character can be no slug (and PostgreSQL refuses NUL in a query).
    clean = slug.isprintable()
    detail = catalog_selectors.get_product_detail(slug, request=request) if clean else None
    if detail is None:
        raise NotFoundError("Unknown product.", slug=slug[:120])
    found = product_availability(
        sku_ids=[s.id for s in detail.skus],
        city=params.city,
        channel_code=settings.STOREFRONT_CHANNEL,
    )
    return _product_out(detail.slug, detail.skus, found)
