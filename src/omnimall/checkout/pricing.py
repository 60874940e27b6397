"""Reading a cart and pricing it: the one place a cart's amounts are computed.

Lines never carry prices. ``price_cart`` prices a cart from scratch on every read: one
query for the lines with their SKU, product, brand, current price in the cart's channel's
price list and first image; two more for the stock of those SKUs (inventory's
``list_sku_availability`` with the channel's safety stock). A line that cannot be bought
now is *flagged* with a reason, kept in the cart, and left out of the totals.

Shipping: the rate of the ship-to province's zone when a province is given (the lines
query then also reads the zones' cache version, so the cached zones cost no query of
their own), else the default rate, an estimate (``CartView.shipping_estimated``).

Ownership: a cart with a user belongs to that user alone; a guest cart to whoever holds
its token. A cart someone else owns is "not found" (404), never "forbidden".

Shared by ``selectors`` (pages and API) and ``services`` (checkout prices the lines it
places), which may not import each other.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context as DecimalContext
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils.translation import get_language

from omnimall.catalog.domain import colour_name, effective_price
from omnimall.catalog.models import Brand, Price, PriceList, Product, ProductImage, Sku
from omnimall.channels.models import SalesChannel
from omnimall.core.cache_versions import version_subquery_sql
from omnimall.inventory.domain import StockState, stock_state
from omnimall.inventory.selectors.stock import list_sku_availability

from . import shipping
from .domain import (
    Flag,
    Method,
    ShippingRate,
    Totals,
    cart_totals,
    line_total,
    rate_for,
    shipping_fee,
)
from .errors import CartNotFoundError
from .models import Cart, CartLine, CartState
from .provinces import province_code


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
        """ "Red / M" (in the language of ``product_name``): as the product page names the
        colour, never its code; the order line keeps it as placed."""
        zh = (get_language() or "").startswith("zh")
        colour = colour_name(self.colour, zh=zh) if self.colour else ""
        return " / ".join(part for part in (colour, self.size) if part)

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
    province: str | None  # the ship-to province's code, when one was given and known
    rate: ShippingRate  # what delivery there costs (the default rate without a province)

    @property
    def shipping_estimated(self) -> bool:
        """Delivery priced at the default rate for want of a province: the province's
        own zone may cost more (or not be delivered to)."""
        return self.method == Method.SHIP and self.province is None

    @property
    def delivers(self) -> bool:
        """False when the shop does not deliver to the given province (checkout refuses)."""
        return self.method != Method.SHIP or self.rate.delivers

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


@dataclass(frozen=True, slots=True)
class _CartHead:
    """The cart columns a view shows (from a ``Cart`` or read along with its lines)."""

    cart_id: int
    token: str
    state: str
    user_id: int | None
    channel_code: str
    referral_store_code: str


class _Row(NamedTuple):
    """One line as ``_lines_sql`` selects it (the cart's columns follow when asked)."""

    line_id: int
    sku_id: int
    quantity: int
    sku_code: str
    size: str
    colour: str
    sku_active: bool
    product_id: int
    product_slug: str
    product_name_en: str
    product_name_zh: str
    product_active: bool
    brand_name_en: str
    brand_name_zh: str
    brand_active: bool
    list_price: Any
    sale_price: Any
    currency: str | None
    image: str | None


_ROW_WIDTH = len(_Row._fields)
_HEAD_WIDTH = len(dataclasses.fields(_CartHead))


@functools.cache
def _lines_sql(*, by_token: bool, with_version: bool = False) -> str:
    """Hand-written (hot path: every cart read and checkout prices its lines with it).

    Compiling the equivalent queryset (select_related + four correlated subqueries) cost
    more Python than everything else of an add-to-cart request. One statement, portable
    (SQLite and PostgreSQL), table names from the models: the lines of one cart with SKU,
    product, brand, the price in the price list of the cart's channel (at most one: a
    channel has one price list, a list one price per SKU) and the product's first image.
    By id, the caller passes the cart's channel (no join to the cart: cheaper to plan);
    by token, the cart's own columns follow the line's. ``with_version``: the shipping
    zones' cache version comes last (a parameter before the others: the namespace).
    """
    image = ProductImage._meta.db_table
    cart_columns, cart_join, channel, where = "", "", "%s", "l.cart_id"
    if by_token:
        cart_columns = ", c.id, c.token, c.state, c.user_id, c.channel_code, c.referral_store_code"
        cart_join = f"INNER JOIN {Cart._meta.db_table} c ON c.id = l.cart_id\n"
        channel, where = "c.channel_code", "c.token"
    version = f", {version_subquery_sql()}" if with_version else ""
    return f"""SELECT l.id, l.sku_id, l.quantity, s.code, s.size, s.colour, s.is_active,
    p.id, p.slug, p.name_en, p.name_zh, p.is_active, b.name_en, b.name_zh, b.is_active,
    pr.list_price, pr.sale_price, pl.currency,
    (SELECT i.image FROM {image} i WHERE i.product_id = s.product_id
     ORDER BY i.position, i.id LIMIT 1){cart_columns}{version}
FROM {CartLine._meta.db_table} l
{cart_join}INNER JOIN {Sku._meta.db_table} s ON s.id = l.sku_id
INNER JOIN {Product._meta.db_table} p ON p.id = s.product_id
INNER JOIN {Brand._meta.db_table} b ON b.id = p.brand_id
LEFT JOIN {Price._meta.db_table} pr ON pr.sku_id = l.sku_id AND pr.price_list_id = (
    SELECT cpl.id FROM {PriceList._meta.db_table} cpl
    INNER JOIN {SalesChannel._meta.db_table} ch ON ch.id = cpl.channel_id
    WHERE ch.code = {channel})
LEFT JOIN {PriceList._meta.db_table} pl ON pl.id = pr.price_list_id
WHERE {where} = %s
ORDER BY l.added_at, l.id"""  # noqa: S608 (table names from the models; values are bound)


_FROM_NUMBER = DecimalContext(prec=15).create_decimal_from_float


def _decimal(value: Any) -> Decimal | None:
    """A price column as the ORM gives it: PostgreSQL sends ``Decimal``; SQLite a number,
    converted as Django's SQLite backend converts a decimal subquery."""
    if value is None or isinstance(value, Decimal):
        return value
    return _FROM_NUMBER(value)


def _fetch_rows(sql: str, params: list[int | str]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def _catalog_flag(row: _Row) -> str | None:
    if not row.sku_active:
        return Flag.SKU_INACTIVE
    if not row.product_active or not row.brand_active:
        return Flag.PRODUCT_INACTIVE
    if row.list_price is None:
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


def _bilingual(zh: str, en: str) -> str:
    """As ``Brand.name``: the Chinese or English text, falling back to the other."""
    if (get_language() or "zh-hans").startswith("zh"):
        return zh or en
    return en or zh


def _line_view(row: _Row, flag: str | None, available: int | None, url: Any) -> CartLineView:
    lp = _decimal(row.list_price)
    unit_price = None if lp is None else effective_price(lp, _decimal(row.sale_price))
    if available is not None and flag is None and available <= 0:
        flag = Flag.OUT_OF_STOCK
    state = stock_state(available) if available is not None else StockState.IN_STOCK
    return CartLineView(
        line_id=row.line_id,
        sku_id=row.sku_id,
        sku_code=row.sku_code,
        product_id=row.product_id,
        product_slug=row.product_slug,
        product_name_en=row.product_name_en,
        product_name_zh=row.product_name_zh,
        brand_name=_bilingual(row.brand_name_zh, row.brand_name_en),
        size=row.size,
        colour=row.colour,
        image_url=url(row.image) if row.image else "",
        quantity=row.quantity,
        unit_price=unit_price,
        list_price=lp,
        line_total=None if flag or unit_price is None else line_total(unit_price, row.quantity),
        stock_state=str(state if flag != Flag.OUT_OF_STOCK else StockState.OUT_OF_STOCK),
        available=max(available, 0) if available is not None else 0,
        flag=str(flag) if flag else None,
    )


def _rate(province: str | None, method: str, version: int | None) -> ShippingRate:
    """The shipping rate for ``province`` (a code): the default one without a province,
    or for pick-up (free whatever the rate)."""
    default = shipping.default_rate()
    if province is None or method != Method.SHIP:
        return default
    return rate_for(province, zones=shipping.list_zones(version=version), default=default)


def delivery_quote(province: str, *, subtotal: Decimal) -> tuple[ShippingRate, Decimal]:
    """What delivering goods worth ``subtotal`` to ``province`` (as typed) costs: its rate
    (``delivers`` False where the shop does not deliver) and the fee checkout would charge."""
    rate = _rate(province_code(province), Method.SHIP, None)
    return rate, shipping_fee(subtotal=subtotal, method=Method.SHIP, rate=rate)


def _view(
    cart: _CartHead,
    rows: list[_Row],
    *,
    method: str,
    stock: dict[int, int] | None,
    province: str | None = None,
    version: int | None = None,
) -> CartView:
    url = ProductImage._meta.get_field("image").storage.url
    lines = tuple(
        _line_view(r, _catalog_flag(r), None if stock is None else stock.get(r.sku_id, 0), url)
        for r in rows
    )
    currency = next(
        (r.currency for r in rows if r.list_price is not None and r.currency),
        settings.DEFAULT_CURRENCY,
    )
    chosen = method if method in (Method.SHIP, Method.PICKUP) else Method.SHIP
    rate = _rate(province, chosen, version)
    totals = cart_totals(
        (
            (line.unit_price, line.quantity)
            for line in lines
            if not line.flag and line.unit_price is not None
        ),
        method=chosen,
        rate=rate,
    )
    return CartView(
        cart_id=cart.cart_id,
        token=cart.token,
        state=cart.state,
        user_id=cart.user_id,
        channel_code=cart.channel_code,
        referral_store_code=cart.referral_store_code,
        currency=currency,
        method=chosen,
        lines=lines,
        totals=totals,
        province=province if chosen == Method.SHIP else None,
        rate=rate,
    )


def _head(cart: Cart) -> _CartHead:
    return _CartHead(
        cart.pk, cart.token, cart.state, cart.user_id, cart.channel_code, cart.referral_store_code
    )


def _version(found: list[tuple[Any, ...]]) -> int | None:
    """The zones' cache version read along with the lines (0: never bumped); None without
    lines (then ``shipping.list_zones`` reads it, if it needs it at all)."""
    return int(found[0][-1] or 0) if found else None


def price_cart(
    cart: Cart, *, method: str = Method.SHIP, province: str | None = None, with_stock: bool = True
) -> CartView:
    """The priced view of a cart already loaded (1 query, +2 with stock). ``province``: the
    ship-to province as the shopper wrote it (``provinces.province_code``); without one,
    or one not recognised, delivery is the default rate, an estimate."""
    code = province_code(province) if method == Method.SHIP else None
    params: list[int | str] = [cart.channel_code, cart.pk]
    if code is not None:
        params.insert(0, shipping.SHIPPING_CACHE_NAMESPACE)
    found = _fetch_rows(_lines_sql(by_token=False, with_version=code is not None), params)
    rows = [_Row._make(row[:_ROW_WIDTH]) for row in found]
    stock = None
    if with_stock:
        wanted = [r.sku_id for r in rows if _catalog_flag(r) is None]
        stock = _sellable(wanted, cart.channel_code)
    version = _version(found) if code is not None else None
    return _view(_head(cart), rows, method=method, stock=stock, province=code, version=version)


def new_cart_view(cart: Cart) -> CartView:
    """The priced view of a cart just created: no lines yet, so no query."""
    return _view(_head(cart), [], method=Method.SHIP, stock={})


def price_lines_of(
    *, token: str, method: str = Method.SHIP, province: str | None = None
) -> CartView | None:
    """The priced lines of a cart, the cart read along (1 query; no stock). None: no lines.

    For checkout, which has just closed the cart with an UPDATE and needs no stock flags
    (the reservation checks stock). ``province``: as for ``price_cart``.
    """
    code = province_code(province) if method == Method.SHIP else None
    params: list[int | str] = [token]
    if code is not None:
        params.insert(0, shipping.SHIPPING_CACHE_NAMESPACE)
    found = _fetch_rows(_lines_sql(by_token=True, with_version=code is not None), params)
    if not found:
        return None
    rows = [_Row._make(row[:_ROW_WIDTH]) for row in found]
    head = _CartHead(*found[0][_ROW_WIDTH : _ROW_WIDTH + _HEAD_WIDTH])
    version = _version(found) if code is not None else None
    return _view(head, rows, method=method, stock=None, province=code, version=version)


def get_cart_view(
    *, token: str, user: Any, method: str = Method.SHIP, province: str | None = None
) -> CartView:
    """The cart priced now, with flags and totals (3 queries + the cart's own)."""
    return price_cart(get_cart(token=token, user=user), method=method, province=province)
