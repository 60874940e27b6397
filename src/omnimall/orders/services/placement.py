"""Placing an order: a priced basket becomes an order holding its stock, awaiting payment.

One transaction: plan where every line comes from (inventory allocation), hold those
units for ``CHECKOUT_HOLD_MINUTES``, write the order with its lines and allocations, credit
a store, start the gateway payment and queue the "order placed" email. A shortage raises
inventory's ``InsufficientStockError`` (409 ``out_of_stock``) and nothing is written.

Prices are the caller's (checkout computes them on the server from current prices); this
module only checks they are sane and adds them up, rounding each line half-up to the cent.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from omnimall.checkout.domain import NOTE_MAX_LENGTH, clean_note
from omnimall.core import clock, sql
from omnimall.core.errors import ValidationFailedError
from omnimall.core.money import quantize
from omnimall.core.shop import shop_name
from omnimall.inventory.domain import BasketLine
from omnimall.inventory.errors import InsufficientStockError, StockLocationNotFoundError
from omnimall.inventory.selectors import allocation
from omnimall.orders import attribution, domain
from omnimall.orders.models import (
    DeliveryMethod,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
)
from omnimall.payments import services as payments

from . import messages
from . import points as order_points
from .holds import hold_units, spread_units

SHIP_TO_REQUIRED = ("name", "phone", "province", "city", "district", "street")
SHIP_TO_FIELDS = (*SHIP_TO_REQUIRED, "postal_code")
MAX_QUANTITY = 999  # OrderLine.quantity is a small integer; checkout caps lines far below
NUMBER_ATTEMPTS = 8


class InvalidOrderError(ValidationFailedError):
    code = "invalid_order"
    message = "The order is not valid."


@dataclass(frozen=True)
class PricedLine:
    sku_id: int
    sku_code: str
    product_name: str
    variant: str
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class PlacedOrder:
    order_id: int
    number: str
    guest_token: str
    payment_url: str
    total: Decimal
    reserved_until: datetime
    points_used: int = 0
    points_value: Decimal = Decimal("0.00")
    shipping: Decimal = Decimal("0.00")  # the delivery fee charged (included in ``total``)

    @property
    def amount_due(self) -> Decimal:
        """What the gateway is asked for: the total less what points pay."""
        return self.total - self.points_value


def payment_subject(number: str) -> str:
    """What the gateway's page and the shopper's bank statement call the payment."""
    return f"{shop_name()} {number}"


def new_order_number(now: datetime) -> str:
    """``yymmdd`` (shop time) + 6 random digits: 12 digits a person can read out."""
    return f"{timezone.localtime(now):%y%m%d}{secrets.randbelow(10**6):06d}"


def _check_lines(lines: Sequence[PricedLine]) -> None:
    if isinstance(lines, str | bytes) or not lines:
        raise InvalidOrderError("An order needs at least one line.")
    for index, line in enumerate(lines):
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise InvalidOrderError("Quantities are positive whole numbers.", line=index)
        if quantity > MAX_QUANTITY:
            raise InvalidOrderError("The quantity is too large.", line=index, maximum=MAX_QUANTITY)
        if not isinstance(line.unit_price, Decimal) or line.unit_price < 0:
            raise InvalidOrderError("Unit prices are non-negative Decimals.", line=index)


def _check_contact(contact: Contact) -> None:
    missing = [f for f in ("name", "email", "phone") if not str(getattr(contact, f, "")).strip()]
    if missing:
        raise InvalidOrderError("The contact is incomplete.", missing=missing)
    try:
        validate_email(contact.email.strip())
    except ValidationError:
        raise InvalidOrderError("The email address is not valid.", field="email") from None


def _clean_ship_to(method: str, ship_to: dict[str, Any] | None) -> dict[str, str]:
    if method == DeliveryMethod.PICKUP:
        return {}
    if not isinstance(ship_to, dict):
        raise InvalidOrderError("Delivery needs an address.", missing=list(SHIP_TO_REQUIRED))
    cleaned = {
        key: str(ship_to.get(key) or "").strip()[:200]
        for key in SHIP_TO_FIELDS
        if isinstance(ship_to.get(key, ""), str | int)
    }
    missing = [key for key in SHIP_TO_REQUIRED if not cleaned.get(key)]
    if missing:
        raise InvalidOrderError("The address is incomplete.", missing=missing)
    return cleaned


def _plan(
    *,
    basket: dict[int, int],
    method: str,
    ship_to: dict[str, str],
    pickup_store_id: int | None,
    channel_code: str,
) -> dict[tuple[int, int], int]:
    """``{(location_id, sku_id): units}`` serving the basket; refuses shortages."""
    if method == DeliveryMethod.PICKUP and not isinstance(pickup_store_id, int):
        raise InvalidOrderError("Pick-up needs a store.", field="pickup_store_id")
    try:
        plan = allocation.plan_allocation(
            lines=[BasketLine(sku_id, quantity) for sku_id, quantity in basket.items()],
            method=method,
            city=ship_to.get("city") or None,
            store_id=pickup_store_id if method == DeliveryMethod.PICKUP else None,
            channel_code=channel_code,
        )
    except StockLocationNotFoundError:
        raise InvalidOrderError(
            "This store does not offer pick-up.", field="pickup_store_id"
        ) from None
    if plan.shortages:
        raise InsufficientStockError(plan.shortages)
    return plan.allocated()


def _create_order(**fields: Any) -> Order:
    """Insert the order under a fresh random number.

    One ``INSERT … ON CONFLICT DO NOTHING``: a number (or guest token) already taken, even
    by a concurrent checkout, inserts nothing and is tried again with new ones, leaving the
    caller's transaction usable without a savepoint or a look-up first.
    """
    now = clock.now()
    for _ in range(NUMBER_ATTEMPTS):
        order = Order(number=new_order_number(now), guest_token=secrets.token_urlsafe(24), **fields)
        if sql.insert([order], or_nothing=True):
            return order
    raise IntegrityError("no free order number")


def order_page_url(*, number: str, guest_token: str) -> str:
    """The shopper's order page (works for guests through the token)."""
    try:
        path = reverse("account:order_detail", args=[number])
    except NoReverseMatch:
        path = f"/account/orders/{number}/"
    return f"{settings.SITE_URL}{path}?token={guest_token}"


def _return_url(template: str, *, number: str, guest_token: str) -> str:
    """The caller's return URL; ``{number}``/``{token}`` in it are filled in. Empty: the
    order page."""
    if not template:
        return order_page_url(number=number, guest_token=guest_token)
    if "{number}" in template or "{token}" in template:
        return template.replace("{number}", number).replace("{token}", guest_token)
    return template


def place_order(
    *,
    lines: Sequence[PricedLine],
    contact: Contact,
    method: str,
    ship_to: dict[str, Any] | None,
    pickup_store_id: int | None,
    shipping: Decimal,
    user_id: int | None,
    cart_token: str,
    notify_url: str,
    return_url: str,
    channel_code: str = "online",
    referral_store_code: str = "",
    points: int = 0,
    member_id: int | None = None,
    note: str = "",
) -> PlacedOrder:
    """Hold the stock and write an order awaiting payment, with its payment started.

    ``note``: the shopper's note to the shop (checked by checkout: ``domain.note_error``),
    kept on the order and handed to the locations that fulfil it.

    ``points`` (> 0 needs ``member_id``, checked by ``points.member_paying``): held for
    the order in the same transaction; the gateway is asked for the rest."""
    _check_lines(lines)
    _check_contact(contact)
    if method not in DeliveryMethod.values:
        raise InvalidOrderError("The delivery method is 'ship' or 'pickup'.", field="method")
    if not isinstance(shipping, Decimal) or shipping < 0:
        raise InvalidOrderError("Shipping is a non-negative Decimal.", field="shipping")
    address = _clean_ship_to(method, ship_to)
    basket: dict[int, int] = {}
    for line in lines:
        basket[line.sku_id] = basket.get(line.sku_id, 0) + line.quantity
    subtotal = sum((quantize(line.unit_price * line.quantity) for line in lines), Decimal("0"))
    total = quantize(subtotal + shipping)
    hold = timedelta(minutes=settings.CHECKOUT_HOLD_MINUTES)
    points = order_points.clean_points(points)
    if points and member_id is None:
        raise order_points.PointsNeedMemberError()
    if points > order_points.limit_for(total):
        raise order_points.PointsOverLimitError(
            points=points, maximum=order_points.limit_for(total)
        )
    paid_with_points = order_points.value_of(points) if points else Decimal("0.00")

    # Reads first: the usual refusals (bad input, a shortage) leave any caller's
    # transaction usable. The writes then take no savepoint of their own inside a caller's
    # transaction: a refusal there (the stock went in the meantime) rolls the caller's
    # work back too, so let it propagate (as checkout does).
    with allocation.locations_read_once():  # the plan and the credit share one read
        units = _plan(
            basket=basket,
            method=method,
            ship_to=address,
            pickup_store_id=pickup_store_id,
            channel_code=channel_code,
        )
        # The pick-up store for the "placed" email, from the same read (no query of its own).
        store = (
            next(
                (loc for loc in allocation.list_locations() if loc.location_id == pickup_store_id),
                None,
            )
            if method == DeliveryMethod.PICKUP
            else None
        )
        credited_id, credit_reason = _credit(
            referral_store_code=referral_store_code,
            pickup_store_id=pickup_store_id if method == DeliveryMethod.PICKUP else None,
            user_id=user_id,
            ship_to_city=address.get("city", ""),
        )
    with transaction.atomic(savepoint=False):
        now = clock.now()
        order = _create_order(
            user_id=user_id,
            cart_token=(cart_token or "")[:64],
            channel_code=channel_code,
            email=contact.email.strip(),
            phone=contact.phone.strip()[:20],
            contact_name=contact.name.strip()[:60],
            delivery_method=method,
            ship_to=address,
            shopper_note=clean_note(note)[:NOTE_MAX_LENGTH],
            pickup_store_id=pickup_store_id if method == DeliveryMethod.PICKUP else None,
            credited_store_id=credited_id,
            credit_reason=credit_reason if credited_id else "",
            subtotal=quantize(subtotal),
            shipping=quantize(shipping),
            total=total,
            points_used=points,
            points_value=paid_with_points,
            reserved_until=now + hold,
        )
        placed_data: dict[str, object] = {
            "hold_minutes": settings.CHECKOUT_HOLD_MINUTES,
            "credited_store": credited_id,
        }
        reservation_ids = hold_units(order, units, hold_for=hold, now=now)
        order_lines = [
            OrderLine(
                order=order,
                sku_id=line.sku_id,
                sku_code=line.sku_code[:64],
                product_name=line.product_name[:200],
                variant=(line.variant or "")[:80],
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=quantize(line.unit_price * line.quantity),
            )
            for line in lines
        ]
        sql.insert(order_lines)
        sql.insert(
            spread_units(((line, line.quantity) for line in order_lines), units, reservation_ids)
        )
        # After the stock: every path locks stock rows before the member row.
        if points and member_id is not None:
            placed_data["points_member"] = member_id
            placed_data["points_hold"] = order_points.hold_for_order(
                order, member_id=member_id, points=points
            )
        started = payments.start_payment(
            order_id=order.pk,
            amount=total - paid_with_points,
            currency=order.currency,
            subject=payment_subject(order.number),
            notify_url=notify_url,
            return_url=_return_url(return_url, number=order.number, guest_token=order.guest_token),
        )
        placed = OrderEvent(
            order=order,
            kind=OrderEventKind.STATE,
            message=gettext_noop("placed"),
            state_to=domain.PENDING_PAYMENT,
            data=placed_data,
            actor_label="system",
        )
        emailed = messages.queue_email(
            order, template="placed", lines=order_lines, pickup_store=store
        )
        sql.insert([placed] if emailed is None else [placed, emailed])
    return PlacedOrder(
        order_id=order.pk,
        number=order.number,
        guest_token=order.guest_token,
        payment_url=started.payment_url,
        total=total,
        reserved_until=now + hold,
        points_used=points,
        points_value=paid_with_points,
        shipping=order.shipping,
    )


def _credit(
    *, referral_store_code: str, pickup_store_id: int | None, user_id: int | None, ship_to_city: str
) -> tuple[int | None, str]:
    """The store this order is credited to (``orders.attribution`` decides)."""
    return attribution.credit_store_for(
        referral_store_code=referral_store_code,
        pickup_store_id=pickup_store_id,
        user_id=user_id,
        ship_to_city=ship_to_city,
    )
