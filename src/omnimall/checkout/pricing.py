"""Reading a cart and pricing it: the one place a cart's amounts are computed.

Lines never carry prices. ``price_cart`` prices a cart from scratch on every read: one
query for the lines with their SKU, product, brand, current price in the cart's channel's
price list and first image; two more for the stock of those SKUs (inventory's
``list_sku_availability`` with the channel's safety stock). A line that cannot be bought
now is *flagged* with a reason, kept in the cart, and left out of the totals.

Ownership: a cart with a user belongs to that user alone; a guest cart to whoever holds
its token. A cart someone else owns is "not found" (404), never "forbidden".

Shared by ``selectors`` (pages and API) and ``services`` (checkout prices the lines it
places), which may not import each other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import get_language

from omnimall.catalog.domain import effective_price
from omnimall.catalog.models import Price, ProductImage
from omnimall.inventory.domain import StockState, stock_state
from omnimall.inventory.selectors.stock import list_sku_availability

from .domain import Flag, Method, Totals, cart_totals, line_total
from .errors import CartNotFoundError
from .models import Cart, CartLine, CartState


@dataclass(frozen=True, slots=True)
class CartLineView:
    line_id: int
    sku_id: int
    sku_code: str
    product_id: int
    product_slug: str
    product_name_en: str
    product_name_zh: str
    brand_name: str
    size: str
    colour: str
    image_url: str
    quantity: int
    unit_price: Decimal | None  # None when the SKU has no price in the channel
    list_price: Decimal | None
    line_total: Decimal | None  # None for a flagged line (not counted)
    stock_state: str
    available: int  # units the shop can sell now (delivery or the best-stocked store)
    flag: str | None  # a checkout.domain.Flag, or None when the line can be bought

    @property
    def product_name(self) -> str:
        zh = (get_language() or "").startswith("zh")
        return (self.product_name_zh or self.product_name_en) if zh else self.product_name_en

    @property
    def variant(self) -> str:
        return " / ".join(part for part in (self.colour, self.size) if part)

    @property
    def is_discounted(self) -> bool:
        return (
            self.unit_price is not None
            and self.list_price is not None
            and self.list_price > self.unit_price
        )


@dataclass(frozen=True, slots=True)
class CartView:
    cart_id: int
    token: str
    state: str
    user_id: int | None
    channel_code: str
    referral_store_code: str
    currency: str
    method: str
    lines: tuple[CartLineView, ...]
    totals: Totals

    @property
    def flagged_lines(self) -> tuple[CartLineView, ...]:
        return tuple(line for line in self.lines if line.flag)

    @property
    def buyable_lines(self) -> tuple[CartLineView, ...]:
        return tuple(line for line in self.lines if not line.flag)

    @property
    def line_count(self) -> int:
        return len(self.lines)

    @property
    def can_check_out(self) -> bool:
        return self.state == CartState.OPEN and bool(self.lines) and not self.flagged_lines


def user_id_of(user: Any) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    pk: int = user.pk
    return pk


def may_use(cart: Cart, user_id: int | None) -> bool:
    """A user's cart is theirs alone; a guest cart is usable by whoever holds the token."""
    return cart.user_id is None or cart.user_id == user_id


def owned_by(user_id: int | None, prefix: str = "") -> Q:
    """The carts ``user_id`` may use: guest carts, and their own."""
    mine = Q(**{f"{prefix}user__isnull": True})
    if user_id is not None:
        mine |= Q(**{f"{prefix}user_id": user_id})
    return mine


TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_ID = 2**63 - 1


def is_token(token: object) -> bool:
    """Shaped like a cart token (URL-safe, ≤ 64): anything else is unknown, no query."""
    return isinstance(token, str) and bool(TOKEN_RE.match(token))


def is_id(value: object) -> bool:
    """A row id the database can hold (a huge path number is simply not found)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def get_cart(*, token: str, user: Any) -> Cart:
    """The cart with this token if the caller may use it, else ``CartNotFoundError``."""
    if not is_token(token):
        raise CartNotFoundError()
    cart = Cart.objects.filter(token=token).first()
    if cart is None or not may_use(cart, user_id_of(user)):
        raise CartNotFoundError()
    return cart


def _line_rows(lines: Q, *, with_cart: bool = False) -> list[CartLine]:
    """Lines with SKU, product, brand, price in the cart's channel and first image."""
    prices = Price.objects.filter(
        sku_id=OuterRef("sku_id"), price_list__channel__code=OuterRef("cart__channel_code")
    )
    image = (
        ProductImage.objects.filter(product_id=OuterRef("sku__product_id"))
        .order_by("position", "id")
        .values("image")[:1]
    )
    related = ["sku__product__brand", "cart"] if with_cart else ["sku__product__brand"]
    return list(
        CartLine.objects.filter(lines)
        .select_related(*related)
        .annotate(
            lp=Subquery(prices.values("list_price")[:1]),
            sp=Subquery(prices.values("sale_price")[:1]),
            cur=Subquery(prices.values("price_list__currency")[:1]),
            image_name=Subquery(image),
        )
        .order_by("added_at", "id")
    )


def _catalog_flag(row: CartLine) -> str | None:
    sku = row.sku
    product = sku.product
    if not sku.is_active:
        return Flag.SKU_INACTIVE
    if not product.is_active or not product.brand.is_active:
        return Flag.PRODUCT_INACTIVE
    if row.lp is None:  # type: ignore[attr-defined]
        return Flag.NO_PRICE
    return None


def _sellable(sku_ids: Sequence[int], channel_code: str) -> dict[int, int]:
    """Units sellable now per SKU: all shipping locations together, or the best store."""
    if not sku_ids:
        return {}
    found = list_sku_availability(sku_ids=sku_ids, channel_code=channel_code)
    sellable: dict[int, int] = {}
    for sku_id, sku in found.items():
        delivery = sum(loc.available for loc in sku.locations if loc.can_ship)
        store = max((loc.available for loc in sku.locations if loc.offers_pickup), default=0)
        sellable[sku_id] = max(delivery, store, 0)
    return sellable


def _line_view(row: CartLine, flag: str | None, available: int | None) -> CartLineView:
    sku = row.sku
    product = sku.product
    lp: Decimal | None = row.lp  # type: ignore[attr-defined]
    sp: Decimal | None = row.sp  # type: ignore[attr-defined]
    unit_price = None if lp is None else effective_price(lp, sp)
    image_name: str | None = row.image_name  # type: ignore[attr-defined]
    storage = ProductImage._meta.get_field("image").storage
    if available is not None and flag is None and available <= 0:
        flag = Flag.OUT_OF_STOCK
    state = stock_state(available) if available is not None else StockState.IN_STOCK
    return CartLineView(
        line_id=row.pk,
        sku_id=sku.pk,
        sku_code=sku.code,
        product_id=product.pk,
        product_slug=product.slug,
        product_name_en=product.name_en,
        product_name_zh=product.name_zh,
        brand_name=product.brand.name,
        size=sku.size,
        colour=sku.colour,
        image_url=storage.url(image_name) if image_name else "",
        quantity=row.quantity,
        unit_price=unit_price,
        list_price=lp,
        line_total=None if flag or unit_price is None else line_total(unit_price, row.quantity),
        stock_state=str(state if flag != Flag.OUT_OF_STOCK else StockState.OUT_OF_STOCK),
        available=max(available, 0) if available is not None else 0,
        flag=str(flag) if flag else None,
    )


def shipping_settings() -> tuple[Decimal, Decimal]:
    return Decimal(settings.FREE_SHIPPING_FROM), Decimal(settings.SHIPPING_FEE)


def _view(
    cart: Cart, rows: list[CartLine], *, method: str, stock: dict[int, int] | None
) -> CartView:
    flags = {row.pk: _catalog_flag(row) for row in rows}
    lines = tuple(
        _line_view(r, flags[r.pk], None if stock is None else stock.get(r.sku_id, 0)) for r in rows
    )
    currency = next((r.cur for r in rows if r.cur), settings.DEFAULT_CURRENCY)  # type: ignore[attr-defined]
    free_from, fee = shipping_settings()
    chosen = method if method in (Method.SHIP, Method.PICKUP) else Method.SHIP
    totals = cart_totals(
        (
            (line.unit_price, line.quantity)
            for line in lines
            if not line.flag and line.unit_price is not None
        ),
        method=chosen,
        free_from=free_from,
        fee=fee,
    )
    return CartView(
        cart_id=cart.pk,
        token=cart.token,
        state=cart.state,
        user_id=cart.user_id,
        channel_code=cart.channel_code,
        referral_store_code=cart.referral_store_code,
        currency=currency,
        method=chosen,
        lines=lines,
        totals=totals,
    )


def price_cart(cart: Cart, *, method: str = Method.SHIP, with_stock: bool = True) -> CartView:
    """The priced view of a cart already loaded (1 query, +2 with stock)."""
    rows = _line_rows(Q(cart_id=cart.pk))
    stock = None
    if with_stock:
        wanted = [r.sku_id for r in rows if _catalog_flag(r) is None]
        stock = _sellable(wanted, cart.channel_code)
    return _view(cart, rows, method=method, stock=stock)


def price_lines_of(*, token: str, method: str = Method.SHIP) -> CartView | None:
    """The priced lines of a cart, the cart read along (1 query; no stock). None: no lines.

    For checkout, which has just closed the cart with an UPDATE and needs no stock flags
    (the reservation checks stock).
    """
    rows = _line_rows(Q(cart__token=token), with_cart=True)
    if not rows:
        return None
    return _view(rows[0].cart, rows, method=method, stock=None)


def get_cart_view(*, token: str, user: Any, method: str = Method.SHIP) -> CartView:
    """The cart priced now, with flags and totals (3 queries + the cart's own)."""
    return price_cart(get_cart(token=token, user=user), method=method)
