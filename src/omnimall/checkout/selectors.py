"""Cart and address reads shared by the pages and the Store API.

The priced cart (``CartView``, ``get_cart_view``, ``price_cart``) is computed in
``checkout.pricing``, the shipping rates read in ``checkout.shipping``; both re-exported
here.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from omnimall.inventory.domain import BasketLine
from omnimall.inventory.selectors import allocation as allocation_selectors

from .models import Address, CartLine, CartState
from .pricing import (
    CartLineView,
    CartView,
    delivery_quote,
    get_cart,
    get_cart_view,
    may_use,
    new_cart_view,
    owned_by,
    price_cart,
    price_lines_of,
    user_id_of,
)
from .shipping import default_rate, delivery_time, list_zones, province_names, zone_name

__all__ = [
    "CartLineView", "CartView", "count_units", "default_rate", "delivery_quote", "delivery_time",
    "get_address",
    "get_cart",
    "get_cart_view", "list_addresses", "list_cart_pickup_stores", "list_zones", "may_use",
    "new_cart_view", "owned_by", "price_cart", "price_lines_of", "province_names",
    "user_id_of", "zone_name",
]  # fmt: skip


def count_units(*, token: str | None, user: Any) -> int:
    """Units in the open cart ``token`` the caller may use (the header's badge; 1 query)."""
    if not token:
        return 0
    total = (
        CartLine.objects.filter(
            owned_by(user_id_of(user), "cart__"), cart__token=token, cart__state=CartState.OPEN
        )
        .aggregate(units=Sum("quantity"))
        .get("units")
    )
    return int(total or 0)


def list_cart_pickup_stores(
    *, view: CartView, city: str | None
) -> list[allocation_selectors.PickupStore]:
    """Pick-up stores that hold every buyable line of the cart, nearest to ``city`` first."""
    lines = [BasketLine(sku_id=line.sku_id, quantity=line.quantity) for line in view.buyable_lines]
    if not lines:
        return []
    return allocation_selectors.list_pickup_stores(
        lines=lines, city=city, channel_code=view.channel_code
    )


def none_nearby(stores: list[allocation_selectors.PickupStore]) -> bool:
    """The nearest store that can hand the bag over is further than ``NEARBY_KM`` from the
    shopper's city: the picker says so and lets the shopper choose, instead of choosing a
    store in another city for them."""
    nearest = stores[0].distance_km if stores else None
    return nearest is not None and nearest > allocation_selectors.NEARBY_KM


def nearby_store(stores: list[allocation_selectors.PickupStore]) -> str:
    """The store the picker pre-selects when the shopper has chosen none: the nearest, and
    only when it is within ``NEARBY_KM`` of the shopper's city. With no city (or one we
    cannot place) nothing is known about where the shopper is, so nothing is chosen."""
    nearest = stores[0] if stores else None
    if nearest is None or nearest.distance_km is None:
        return ""
    return nearest.store.code if nearest.distance_km <= allocation_selectors.NEARBY_KM else ""


def list_addresses(*, user: Any) -> list[Address]:
    """The user's saved addresses, the default first (1 query; none for a guest)."""
    user_id = user_id_of(user)
    if user_id is None:
        return []
    return list(Address.objects.filter(user_id=user_id).order_by("-is_default", "-created_at"))


def get_address(*, user: Any, address_id: int) -> Address | None:
    user_id = user_id_of(user)
    if user_id is None:
        return None
    return Address.objects.filter(user_id=user_id, pk=address_id).first()
