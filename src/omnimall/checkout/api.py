"""Store API: carts and checkout (mounted at ``/api/v1/carts``).

Authentication is the cart's token (``id`` in every path): unguessable, returned once by
``POST /carts``, and the only key a guest or an app needs. No API key, no CSRF token.

A signed-in shopper counts too (``core.api.auth.signed_in_shopper``): an app's bearer
token, or a browser session, but only when it is safe: the request must carry the session
cookie *and*, for a POST/PATCH/DELETE, pass Django's CSRF check (``X-CSRFToken``
header). Then a new cart is the user's, and the user's carts are usable. A cross-site
form or fetch that only rides on the cookie is treated as anonymous, so it can never act
as the user; and an anonymous caller (or another user) holding the token of a user's
cart gets 404, like any unknown cart.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from omnimall.checkout import schemas, selectors
from omnimall.checkout.links import notify_url, order_return_url
from omnimall.checkout.schemas import (
    BuyAgainIn,
    BuyAgainOut,
    CartIn,
    CartOut,
    CartQuery,
    CheckoutIn,
    CheckoutOut,
    LineIn,
    LineQuantityIn,
    PickupStoreOut,
    PickupStoresQuery,
    SkippedLineOut,
)
from omnimall.checkout.services import carts, reorder
from omnimall.checkout.services.checkout import checkout_cart
from omnimall.core import idempotency, throttle
from omnimall.core.api.auth import signed_in_shopper as shopper
from omnimall.core.api.errors import ErrorOut
from omnimall.core.api.openapi import idempotency_key_header
from omnimall.core.api.replays import respond_once
from omnimall.orders import selectors as order_selectors
from omnimall.orders.services import points as order_points

router = Router(tags=["cart and checkout"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _base_url(request: HttpRequest) -> str:
    return settings.SITE_URL or request.build_absolute_uri("/").rstrip("/")


def _cart(
    request: HttpRequest, token: str, method: str = "ship", province: str | None = None
) -> CartOut:
    user = shopper(request)
    cart = selectors.get_cart(token=token, user=user)
    view = selectors.price_cart(cart, method=method, province=province)
    out = schemas.cart_out(view, _base_url(request))
    if user is not None:  # a guest costs no query
        offer = order_points.offer_for(user_id=user.pk, total=view.totals.total)
        if offer is not None:
            out.points = schemas.PointsOfferOut(
                available=offer.available,
                max_points=offer.usable,
                value_of_max=f"{offer.usable_value:.2f}",
            )
    return out


@router.post("", response={201: CartOut, **ERRORS}, summary="Create a cart")
def create_cart(request: HttpRequest, payload: CartIn | None = None) -> Status[CartOut]:
    cart = carts.create_cart(
        user=shopper(request),
        referral_store_code=(payload.referral_store if payload else None) or "",
    )
    view = selectors.new_cart_view(cart)  # empty: nothing to price, no query
    return Status(201, schemas.cart_out(view, _base_url(request)))


@router.get("/{token}", response={200: CartOut, **ERRORS}, summary="The cart, priced now")
def get_cart(request: HttpRequest, token: str, query: Query[CartQuery]) -> CartOut:
    """Delivery is priced for ``province`` when given (its zone's rate; ``shipping_to``
    says whether the shop delivers there), else at the default rate, an estimate."""
    return _cart(request, token, query.delivery_method, query.province)


@router.post("/{token}/lines", response={201: CartOut, **ERRORS}, summary="Add a SKU")
def add_line(request: HttpRequest, token: str, payload: LineIn) -> Status[CartOut]:
    user = shopper(request)
    cart = carts.add_line(
        token=token,
        user=user,
        sku_code=payload.sku,
        sku_id=payload.sku_id,
        quantity=payload.quantity,
    )
    view = selectors.price_cart(cart)
    return Status(201, schemas.cart_out(view, _base_url(request)))


@router.post(
    "/{token}/buy-again",
    response={200: BuyAgainOut, **ERRORS},
    summary="Add an earlier order's items, at today's prices",
)
def buy_again(request: HttpRequest, token: str, payload: BuyAgainIn) -> BuyAgainOut:
    """Each line of the order (its signed-in owner's, or the holder of its guest token;
    anyone else: 404 ``unknown_order``) goes into this cart as an add would put it;
    a line that cannot (off sale, the line or the cart full) is listed in ``skipped``
    with the refusal's code, and the others still go in."""
    user = shopper(request)
    order = order_selectors.get_order_for_viewer(
        number=payload.order, user=user, guest_token=payload.token
    )
    done = reorder.buy_again(
        token=token,
        user=user,
        lines=[
            reorder.OrderedLine(sku_id=line.sku_id, sku_code=line.sku_code, quantity=line.quantity)
            for line in order.lines
        ],
    )
    cart = selectors.get_cart(token=token, user=user)
    return BuyAgainOut(
        cart=schemas.cart_out(selectors.price_cart(cart), _base_url(request)),
        added=list(done.added),
        skipped=[SkippedLineOut(sku=item.sku_code, reason=item.reason) for item in done.skipped],
    )


@router.patch(
    "/{token}/lines/{line_id}", response={200: CartOut, **ERRORS}, summary="Change a quantity"
)
def set_line_quantity(
    request: HttpRequest, token: str, line_id: int, payload: LineQuantityIn
) -> CartOut:
    cart = carts.set_line_quantity(
        token=token, user=shopper(request), line_id=line_id, quantity=payload.quantity
    )
    return schemas.cart_out(selectors.price_cart(cart), _base_url(request))


@router.delete("/{token}/lines/{line_id}", response={200: CartOut, **ERRORS}, summary="Remove")
def remove_line(request: HttpRequest, token: str, line_id: int) -> CartOut:
    cart = carts.remove_line(token=token, user=shopper(request), line_id=line_id)
    return schemas.cart_out(selectors.price_cart(cart), _base_url(request))


@router.get(
    "/{token}/pickup-stores",
    response={200: list[PickupStoreOut], **ERRORS},
    summary="Stores that hold the whole basket, nearest to the city first",
)
def list_pickup_stores(
    request: HttpRequest, token: str, query: Query[PickupStoresQuery]
) -> list[PickupStoreOut]:
    cart = selectors.get_cart(token=token, user=shopper(request))
    view = selectors.price_cart(cart, method="pickup")
    stores = selectors.list_cart_pickup_stores(view=view, city=query.city or None)
    return schemas.pickup_stores_out(stores)


@router.post(
    "/{token}/checkout",
    response={201: CheckoutOut, **ERRORS, 429: ErrorOut},
    openapi_extra=idempotency_key_header(
        required=False,
        description="A unique id per checkout; a retry with it returns the same order.",
    ),
    summary="Place the order: pending payment, with a payment_url",
)
def checkout(
    request: HttpRequest,
    response: HttpResponse,
    token: str,
    payload: CheckoutIn,
) -> Status[Any]:
    idempotency_key = request.headers.get("Idempotency-Key")
    user = shopper(request)
    base = _base_url(request)

    def perform() -> tuple[int, dict[str, Any]]:
        placed = checkout_cart(
            cart_token=token,
            user=user,
            contact=payload.contact.model_dump(),
            method=payload.delivery_method,
            address=payload.address.model_dump() if payload.address else None,
            store=payload.store,
            notify_url=notify_url(base),
            return_url=order_return_url(base),
            points=payload.points,
            invoice=payload.invoice.model_dump() if payload.invoice else None,
            note=payload.note,
            keep_address=payload.save_address,
            client=throttle.client_of(request),
        )
        payment_url = placed.payment_url
        if payment_url.startswith("/"):
            payment_url = base + payment_url
        out = schemas.checkout_out(
            placed, currency=settings.DEFAULT_CURRENCY, payment_url=payment_url
        )
        return 201, out.model_dump(mode="json")

    if idempotency_key is not None and not idempotency_key.strip():
        # The header is optional: a blank one is a malformed key, not a missing one.
        raise idempotency.InvalidIdempotencyKeyError
    if idempotency_key is None:
        status, body = perform()
        return Status(status, body)
    selectors.get_cart(token=token, user=user)  # a foreign cart is 404 before any replay
    return respond_once(
        response,
        scope=f"cart:{token}",
        key=idempotency_key,
        payload=payload.model_dump(mode="json"),
        perform=perform,
    )
