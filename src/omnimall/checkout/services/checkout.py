"""Checkout: a cart becomes an order awaiting payment, priced on the server.

``checkout_cart`` validates the contact and the delivery choice, then in one transaction:
closes the cart with a conditional ``UPDATE … SET state = 'checked_out' WHERE state =
'open'`` (the row lock makes a concurrent second checkout of the same cart wait, then
find it closed: 409), prices its lines from the current price list and the delivery at the
rate of the ship-to province's zone, refuses a province the shop does not deliver to (422
``no_delivery_to_region``) and, while a line is flagged, the cart (409
``cart_has_unavailable_lines``, listing them), and calls
``orders.services.placement.place_order`` — which plans the allocation, holds the stock
for ``CHECKOUT_HOLD_MINUTES`` and starts the payment. A shortage (409 ``out_of_stock``)
or any other refusal rolls everything back, the cart included: nothing is half-written.

A signed-in member may pay part of the order with points (``points``; the rules are
``orders.services.points``): they are held with the order and the gateway asked for the
rest.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction

from omnimall.checkout import pricing
from omnimall.checkout.domain import (
    Method,
    address_errors,
    clean_address,
    clean_phone,
    is_valid_phone,
    note_error,
    text_errors,
)
from omnimall.checkout.errors import (
    CartClosedError,
    CartNotFoundError,
    EmptyCartError,
    InvalidCheckoutError,
    NoDeliveryToRegionError,
    UnavailableLinesError,
)
from omnimall.checkout.models import Cart, CartState
from omnimall.checkout.services import addresses
from omnimall.checkout.services.limits import check_may_check_out
from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.inventory.selectors import allocation as allocation_selectors
from omnimall.orders.services import invoices
from omnimall.orders.services import points as order_points
from omnimall.orders.services.placement import Contact, PlacedOrder, PricedLine, place_order

CONTACT_LIMITS = {"name": 60, "email": 254, "phone": 20}


def contact_errors(contact: Mapping[str, object]) -> dict[str, str]:
    errors = text_errors(contact, CONTACT_LIMITS)
    email = contact.get("email")
    if "email" not in errors and isinstance(email, str):
        try:
            validate_email(email.strip())
        except ValidationError:
            errors["email"] = "not a valid email address"
    phone = contact.get("phone")
    if "phone" not in errors and isinstance(phone, str) and not is_valid_phone(phone):
        errors["phone"] = "not a mobile (1xxxxxxxxxx) or landline (0xx-xxxxxxxx) number"
    return errors


def resolve_pickup_store(store: object) -> int | None:
    """The id of the active pick-up store named by code or id, else None (1 query, shared
    inside ``locations_read_once``)."""
    found = allocation_selectors.find_pickup_store(store)
    return None if found is None else found.location_id


def _validated(
    *,
    contact: Mapping[str, object],
    method: str,
    address: Mapping[str, object] | None,
    store: object,
    note: object,
) -> tuple[Contact, dict[str, str] | None, int | None]:
    errors = {f"contact.{k}": v for k, v in contact_errors(contact).items()}
    if problem := note_error(note):
        errors["note"] = problem
    ship_to: dict[str, str] | None = None
    store_id: int | None = None
    if method == Method.SHIP:
        if not isinstance(address, Mapping):
            errors["address"] = "required for delivery"
        else:
            found = address_errors(address)
            errors.update({f"address.{k}": v for k, v in found.items()})
            if not found:
                ship_to = clean_address(address)
    elif method == Method.PICKUP:
        store_id = resolve_pickup_store(store)
        if store_id is None:
            errors["store"] = "required: a store that offers pick-up"
    else:
        errors["delivery_method"] = "'ship' or 'pickup'"
    if errors:
        raise InvalidCheckoutError(errors=errors)
    cleaned = Contact(
        name=str(contact["name"]).strip(),
        email=str(contact["email"]).strip(),
        phone=clean_phone(str(contact["phone"])),
    )
    return cleaned, ship_to, store_id


@functools.cache
def _close_sql(vendor: str, signed_in: bool) -> str:
    del vendor  # part of the cache key: quoting differs by database
    quote = connection.ops.quote_name
    column = {f.name: quote(str(f.column)) for f in Cart._meta.concrete_fields}
    # Whose cart it is: ``pricing.owned_by`` (guest carts, and a signed-in user's own).
    owner = f"{column['user']} IS NULL" + (f" OR {column['user']} = %s" if signed_in else "")
    return (
        f"UPDATE {quote(Cart._meta.db_table)} "  # noqa: S608 (names from the model)
        f"SET {column['state']} = %s, {column['updated_at']} = %s "
        f"WHERE {column['token']} = %s AND {column['state']} = %s AND ({owner})"
    )


def _close_cart(*, token: str, user_id: int | None) -> bool:
    """``UPDATE … SET state = 'checked_out' WHERE state = 'open'`` for the user's cart: True
    if it was open (and is now closed, its row locked until the transaction ends).

    Hand-written: every checkout runs it, and building the queryset cost more than the
    statement takes to run."""
    params: list[Any] = [
        CartState.CHECKED_OUT.value,
        connection.ops.adapt_datetimefield_value(clock.now()),
        token,
        CartState.OPEN.value,
    ]
    if user_id is not None:
        params.append(user_id)
    with connection.cursor() as cursor:
        cursor.execute(_close_sql(connection.vendor, user_id is not None), params)
        return cursor.rowcount == 1


def _priced_lines(view: pricing.CartView) -> list[PricedLine]:
    if view.flagged_lines:
        raise UnavailableLinesError(
            lines=[
                {"id": line.line_id, "sku": line.sku_code, "reason": line.flag}
                for line in view.flagged_lines
            ]
        )
    if not view.lines:
        raise EmptyCartError()
    return [
        PricedLine(
            sku_id=line.sku_id,
            sku_code=line.sku_code,
            product_name=line.product_name,
            variant=line.variant,
            unit_price=line.unit_price,
            quantity=line.quantity,
        )
        for line in view.lines
        if line.unit_price is not None
    ]


# The pick-up store, the allocation plan and the store credit share one location read.
@allocation_selectors.locations_read_once()
def checkout_cart(
    *,
    cart_token: str,
    user: Any,
    contact: Mapping[str, object],
    method: str,
    address: Mapping[str, object] | None,
    store: object,
    notify_url: str,
    return_url: str,
    points: int = 0,
    invoice: Mapping[str, object] | None = None,
    note: object = "",
    keep_address: bool = False,
    client: str = "",
) -> PlacedOrder:
    """Place the order for this cart (see the module docstring). ``return_url`` may hold
    ``{number}`` and ``{token}``, filled in with the new order's number and guest token.

    ``invoice``: the shopper asks for an invoice (fapiao) with the order: ``kind``,
    ``title``, ``tax_id``, ``email`` (422 ``invalid_invoice`` before anything is written;
    ``orders.services.invoices``).

    ``points``: pay that many of the signed-in member's points (at most
    ``POINTS_MAX_SHARE`` of the total: 422 ``points_over_limit``; at most what they have:
    409 ``insufficient_points``; a guest or a non-member: 422 ``points_need_member``).

    ``note``: the shopper's note to the shop (买家留言), one line of at most
    ``NOTE_MAX_LENGTH`` characters (422 ``invalid_checkout`` with ``errors.note``).

    ``keep_address``: a signed-in shopper's delivery address goes into their address book
    with the order (``addresses.keep_address``: not twice, not past the book's limit).

    ``client``: the shopper's address, for the per-address brake (``limits``; empty: not
    counted). The unpaid-orders brake applies to every checkout."""
    if not pricing.is_token(cart_token):
        raise CartNotFoundError()
    points = order_points.clean_points(points)
    cleaned, ship_to, store_id = _validated(
        contact=contact, method=method, address=address, store=store, note=note
    )
    invoice_details = (
        invoices.clean_invoice(
            **{key: invoice.get(key) for key in ("kind", "title", "tax_id", "email")},
            contact_name=cleaned.name,
            contact_email=cleaned.email,
        )
        if invoice is not None
        else None
    )
    user_id = pricing.user_id_of(user)
    check_may_check_out(client=client, user_id=user_id, phone=cleaned.phone)
    with transaction.atomic():
        if not _close_cart(token=cart_token, user_id=user_id):
            cart = pricing.get_cart(token=cart_token, user=user)  # 404 when not theirs
            raise CartClosedError(state=cart.state)
        # Prices now; stock is checked by place_order's reservation (409 out_of_stock).
        province = ship_to["province"] if ship_to is not None else None
        view = pricing.price_lines_of(token=cart_token, method=method, province=province)
        if view is None:
            raise EmptyCartError()
        if not view.delivers:  # the rollback reopens the cart: nothing is written
            raise NoDeliveryToRegionError(province=province, zone=view.rate.zone)
        member_id = order_points.member_paying(
            user_id=user_id, points=points, total=view.totals.total
        )
        placed = place_order(
            lines=_priced_lines(view),
            contact=cleaned,
            method=method,
            ship_to=ship_to,
            pickup_store_id=store_id,
            shipping=view.totals.shipping,
            user_id=view.user_id or user_id,
            cart_token=view.token,
            notify_url=notify_url,
            return_url=return_url,
            channel_code=view.channel_code,
            referral_store_code=view.referral_store_code,
            points=points,
            member_id=member_id,
            note=str(note or ""),  # checked above; placement tidies it where it stores it
        )
        if keep_address and ship_to is not None:
            addresses.keep_address(user=user, ship_to=ship_to)
        if invoice_details is not None:
            invoices.request_invoice(
                order_id=placed.order_id,
                details=invoice_details,
                actor=Actor.from_user(user)
                if user_id is not None
                else Actor(kind="anonymous", label=f"shopper {cleaned.email}"[:150]),
            )
        return placed
