"""Store API schemas of the cart and checkout, and the functions that fill them.

Every input schema forbids unknown fields (``extra="forbid"``): a body that carries its
own ``price``, ``unit_price``, ``total`` or anything else is refused with 422, never
silently ignored. Quantities are strict JSON integers 1..20 (``"2"``, ``1.5``, ``true``,
``0``, ``-1``, ``21`` and ``10**9`` are all 422).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import StrictBool, StrictInt, StrictStr, field_validator, model_validator

from omnimall.checkout.domain import MAX_LINE_QUANTITY
from omnimall.checkout.provinces import province_code
from omnimall.checkout.selectors import CartLineView, CartView, province_names, zone_name
from omnimall.core.api.schemas import StrictIn
from omnimall.inventory.selectors.allocation import PickupStore
from omnimall.orders.schemas import GuestToken, InvoiceDetailsIn
from omnimall.orders.services.placement import PlacedOrder

Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_LINE_QUANTITY, description="1 to 20")]


# --- errors ------------------------------------------------------------------------------


# --- input -------------------------------------------------------------------------------


class CartIn(StrictIn):
    referral_store: StrictStr | None = Field(
        None, max_length=40, description="Code of the store the shopper came through"
    )


class LineIn(StrictIn):
    sku: StrictStr | None = Field(None, min_length=1, max_length=64, description="SKU code")
    sku_id: StrictInt | None = Field(None, ge=1, le=2**31 - 1, description="or the SKU's id")
    quantity: Quantity

    @model_validator(mode="after")
    def _one_sku(self) -> LineIn:
        if (self.sku is None) == (self.sku_id is None):
            raise ValueError("give either sku (a SKU code) or sku_id")
        return self


class LineQuantityIn(StrictIn):
    quantity: Quantity


class ContactIn(StrictIn):
    name: StrictStr = Field(..., max_length=60)
    email: StrictStr = Field(..., max_length=254)
    phone: StrictStr = Field(..., max_length=20, description="13800138000 or 021-12345678")


class AddressIn(StrictIn):
    name: StrictStr = Field(..., max_length=60, description="Recipient")
    phone: StrictStr = Field(..., max_length=20)
    province: StrictStr = Field(..., max_length=40)
    city: StrictStr = Field(..., max_length=40)
    district: StrictStr = Field(..., max_length=40)
    street: StrictStr = Field(..., max_length=200)
    postal_code: StrictStr = Field("", max_length=10)


class CheckoutIn(StrictIn):
    contact: ContactIn
    delivery_method: Literal["ship", "pickup"]
    address: AddressIn | None = None
    store: StrictStr | StrictInt | None = Field(None, description="Pick-up store: its code (or id)")
    points: StrictInt = Field(
        0,
        ge=0,
        le=2**31 - 1,
        description=(
            "Points to pay with (signed-in members only; at most POINTS_MAX_SHARE of the "
            "total and what the member has)"
        ),
    )
    invoice: InvoiceDetailsIn | None = Field(
        None, description="Ask for an invoice (fapiao) with the order"
    )
    save_address: StrictBool = Field(
        False,
        description=(
            "A signed-in shopper's delivery address goes into their address book too (not "
            "twice, not past its 20 addresses; ignored for a guest)"
        ),
    )
    note: StrictStr | None = Field(
        None,
        max_length=1000,
        description=(
            "The shopper's note to the shop (买家留言), for whoever packs and delivers the "
            "order: one line once spaces and line breaks are tidied, at most 200 characters"
        ),
    )


class PickupStoresQuery(Schema):
    city: str = Field("", max_length=60)


class CartQuery(Schema):
    delivery_method: Literal["ship", "pickup"] = "ship"
    province: str | None = Field(
        None,
        max_length=40,
        description=(
            "Ship-to province (浙江省, 浙江, Zhejiang or ZJ): shipping at its zone's rate; "
            "without it, the default rate, an estimate"
        ),
    )

    @field_validator("province")
    @classmethod
    def _known_province(cls, value: str | None) -> str | None:
        if value is not None and province_code(value) is None:
            raise ValueError("not a province, autonomous region or municipality of China")
        return value


# --- output ------------------------------------------------------------------------------


class LineOut(Schema):
    id: int
    sku: str
    sku_id: int
    product_name: str
    product_slug: str
    variant: str
    size: str
    colour: str
    image: str
    quantity: int
    unit_price: str | None
    list_price: str | None
    line_total: str | None
    stock_state: str
    available: bool
    flag: str | None = Field(None, description="Why the line cannot be bought now")


class TotalsOut(Schema):
    subtotal: str
    shipping: str
    total: str
    item_count: int
    shipping_estimated: bool = Field(
        False,
        description=(
            "Delivery without a province: the default rate, which a province's zone may "
            "change (pass ?province=…)"
        ),
    )


class ShippingToOut(Schema):
    province: str = Field(..., description="The province's code (ISO 3166-2:CN, no CN-)")
    province_name: str
    zone: str = Field(..., description="The shipping zone's name; empty: the default rate")
    delivers: bool = Field(
        ...,
        description="False: the shop does not deliver there (checkout: 422 no_delivery_to_region)",
    )
    days_min: int | None = Field(
        ..., description="Usually delivered in at least this many days once shipped; null: not said"
    )
    days_max: int | None = Field(..., description="…and at most this many")


class PointsOfferOut(Schema):
    available: int = Field(..., description="The member's available points")
    max_points: int = Field(..., description="The most points this cart may be paid with")
    value_of_max: str = Field(..., description="What those points pay, in the currency")


class CartOut(Schema):
    id: str = Field(..., description="The cart's token: keep it secret, it is the key")
    state: str
    currency: str
    delivery_method: str
    lines: list[LineOut]
    flagged_lines: list[int] = Field(..., description="Ids of lines that cannot be bought")
    totals: TotalsOut
    shipping_to: ShippingToOut | None = Field(
        None, description="Where delivery was priced for: GET with ?province=…"
    )
    can_check_out: bool
    points: PointsOfferOut | None = Field(
        None,
        description=(
            "GET only, for a signed-in member (app token, or session as for checkout): "
            "the points they may pay this cart with"
        ),
    )


class PickupStoreOut(Schema):
    code: str
    name: str
    city: str
    address: str
    opening_hours: str
    distance_km: float | None


def pickup_stores_out(stores: Iterable[PickupStore]) -> list[PickupStoreOut]:
    """The stores as the API lists them (a cart's, or an order's stores to move to)."""
    return [
        PickupStoreOut(
            code=s.store.code,
            name=s.store.name,
            city=s.store.city,
            address=s.store.address,
            opening_hours=s.store.opening_hours,
            distance_km=s.distance_km,
        )
        for s in stores
    ]


class OrderRefOut(Schema):
    number: str
    state: str
    total: str
    currency: str
    token: str = Field(..., description="Guest token: shows the order without signing in")
    points_used: int = 0
    points_value: str = Field("0.00", description="What the points pay of the total")
    amount_due: str = Field(..., description="What the payment gateway is asked for")
    shipping: str = Field("0.00", description="The delivery fee charged (in the total)")


class CheckoutOut(Schema):
    order: OrderRefOut
    payment_url: str
    reserved_until: datetime


def _money(value: object) -> str | None:
    return None if value is None else f"{value:.2f}"


def line_out(line: CartLineView, base_url: str = "") -> LineOut:
    """Built with ``model_construct`` (hot path: every cart answer): the values come typed
    from the priced view, so validating them again only cost time; a test checks that
    validating the dump gives the same output."""
    image = line.image_url
    if image and base_url and image.startswith("/"):
        image = base_url + image
    return LineOut.model_construct(
        id=line.line_id,
        sku=line.sku_code,
        sku_id=line.sku_id,
        product_name=line.product_name,
        product_slug=line.product_slug,
        variant=line.variant,
        size=line.size,
        colour=line.colour,
        image=image,
        quantity=line.quantity,
        unit_price=_money(line.unit_price),
        list_price=_money(line.list_price),
        line_total=_money(line.line_total),
        stock_state=line.stock_state,
        available=line.flag is None,
        flag=line.flag,
    )


def _shipping_to(view: CartView) -> ShippingToOut | None:
    if view.province is None:
        return None
    return ShippingToOut.model_construct(
        province=view.province,
        province_name=province_names((view.province,))[0],
        zone=zone_name(view.rate),
        delivers=view.delivers,
        days_min=view.rate.days[0] if view.rate.days and view.delivers else None,
        days_max=view.rate.days[1] if view.rate.days and view.delivers else None,
    )


def cart_out(view: CartView, base_url: str = "") -> CartOut:
    """Built with ``model_construct``, as ``line_out``."""
    return CartOut.model_construct(
        id=view.token,
        state=str(view.state),  # plain str, as validation would make a StrEnum member
        currency=str(view.currency),
        delivery_method=str(view.method),
        lines=[line_out(line, base_url) for line in view.lines],
        flagged_lines=[line.line_id for line in view.flagged_lines],
        totals=TotalsOut.model_construct(
            subtotal=f"{view.totals.subtotal:.2f}",
            shipping=f"{view.totals.shipping:.2f}",
            total=f"{view.totals.total:.2f}",
            item_count=view.totals.item_count,
            shipping_estimated=view.shipping_estimated,
        ),
        shipping_to=_shipping_to(view),
        can_check_out=view.can_check_out,
        points=None,
    )


def checkout_out(placed: PlacedOrder, *, currency: str, payment_url: str) -> CheckoutOut:
    """Built with ``model_construct`` (every checkout answers with it): the values come
    typed from the placed order, so validating them again only cost time; a test checks
    that validating the dump gives the same output."""
    return CheckoutOut.model_construct(
        order=OrderRefOut.model_construct(
            number=placed.number,
            state="pending_payment",
            total=f"{placed.total:.2f}",
            currency=currency,
            token=placed.guest_token,
            points_used=placed.points_used,
            points_value=f"{placed.points_value:.2f}",
            amount_due=f"{placed.amount_due:.2f}",
            shipping=f"{placed.shipping:.2f}",
        ),
        payment_url=payment_url,
        reserved_until=placed.reserved_until,
    )


class BuyAgainIn(StrictIn):
    order: str = Field(max_length=20, description="The order's number")
    token: GuestToken = None


class SkippedLineOut(Schema):
    sku: str
    reason: str = Field(description="sku_unavailable, unknown_sku, quantity_out_of_range, …")


class BuyAgainOut(Schema):
    cart: CartOut
    added: list[str] = Field(description="SKU codes now in the cart")
    skipped: list[SkippedLineOut]
