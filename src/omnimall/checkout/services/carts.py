"""Cart writes: create, add/change/remove a line, merge a guest cart at sign-in.

Rules every write keeps:

- The caller must be allowed to use the cart (``pricing.get_cart``): a cart with a user
  is that user's alone, a guest cart belongs to whoever holds its token. Anything else is
  404 ``cart_not_found`` (never 403, which would confirm the token exists).
- Only an open cart changes; a checked-out or merged one answers 409 ``cart_closed``. A
  write first locks the cart row (``SELECT … FOR UPDATE``), which serialises writes to
  one cart against a concurrent checkout (which flips the state under the same lock).
- A line write does not touch ``Cart.updated_at`` (one query less on the hot path): a
  cart's last activity is the later of its ``updated_at`` and its lines' ``added_at``.
- A line's quantity is a whole number 1..20 (after merging with the same SKU's line), a
  cart holds at most ``MAX_LINES`` lines; lines carry no price.

Cart edits are not written to the audit trail: they move no money or stock, and shoppers
make millions of them. Orders placed from a cart are (``orders.services.placement``).
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from omnimall.catalog.models import Price, Sku
from omnimall.checkout import pricing
from omnimall.checkout.domain import MAX_LINE_QUANTITY, is_valid_quantity, merged_quantity
from omnimall.checkout.errors import (
    CartClosedError,
    CartLineNotFoundError,
    CartNotFoundError,
    QuantityOutOfRangeError,
    SkuNotFoundError,
    SkuUnavailableError,
    TooManyLinesError,
)
from omnimall.checkout.models import MAX_LINES, Cart, CartLine, CartState

CART_SESSION_KEY = "omnimall_cart"
REFERRAL_SESSION_KEY = "omnimall_referral_store"
DEFAULT_CHANNEL = "online"


def _new_token() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, 192 random bits


def _check_quantity(quantity: object) -> int:
    if not is_valid_quantity(quantity):
        raise QuantityOutOfRangeError(
            quantity=quantity if isinstance(quantity, int) else str(quantity)[:20],
            minimum=1,
            maximum=MAX_LINE_QUANTITY,
        )
    assert isinstance(quantity, int)  # noqa: S101 (narrowing for the type checker)
    return quantity


def _open_for_write(*, token: str, user: Any) -> Cart:
    """The caller's cart, locked (``SELECT … FOR UPDATE``: a concurrent checkout of it
    waits, or this waits for the checkout); 409 unless it is open. One query."""
    if not pricing.is_token(token):
        raise CartNotFoundError()
    cart = Cart.objects.select_for_update().filter(token=token).first()
    if cart is None or not pricing.may_use(cart, pricing.user_id_of(user)):
        raise CartNotFoundError()
    if cart.state != CartState.OPEN:
        raise CartClosedError(state=cart.state)
    return cart


@transaction.atomic
def create_cart(
    *, user: Any, channel_code: str = DEFAULT_CHANNEL, referral_store_code: str = ""
) -> Cart:
    """A new empty cart; a signed-in shopper's cart is theirs alone."""
    return Cart.objects.create(
        token=_new_token(),
        user_id=pricing.user_id_of(user),
        channel_code=channel_code or DEFAULT_CHANNEL,
        referral_store_code=(referral_store_code or "")[:40],
    )


def _sku_row(*, cart: Cart, sku_code: str | None, sku_id: int | None) -> Sku:
    """The SKU asked for, with this cart's line of it and the cart's line count (1 query)."""
    if sku_id is not None and not pricing.is_id(sku_id):
        raise SkuNotFoundError(sku_id=str(sku_id)[:20])
    lookup = Q(pk=sku_id) if sku_id is not None else Q(code=sku_code)
    if sku_id is None and (
        not isinstance(sku_code, str) or not sku_code or len(sku_code) > 64 or "\x00" in sku_code
    ):
        raise SkuNotFoundError(sku=str(sku_code)[:64])
    line = CartLine.objects.filter(cart_id=cart.pk, sku_id=OuterRef("pk"))
    lines = (
        CartLine.objects.filter(cart_id=cart.pk)
        .order_by()
        .values("cart_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    price = Price.objects.filter(
        sku_id=OuterRef("pk"), price_list__channel__code=cart.channel_code
    ).values("pk")[:1]
    sku = (
        Sku.objects.filter(lookup)
        .select_related("product__brand")
        .annotate(
            line_id=Subquery(line.values("pk")[:1]),
            line_quantity=Subquery(line.values("quantity")[:1]),
            line_count=Coalesce(Subquery(lines), 0),
            price_id=Subquery(price),
        )
        .first()
    )
    if sku is None:
        raise SkuNotFoundError(sku=sku_code if sku_id is None else sku_id)
    return sku


@transaction.atomic
def add_line(
    *,
    token: str,
    user: Any,
    quantity: object,
    sku_code: str | None = None,
    sku_id: int | None = None,
) -> Cart:
    """Put ``quantity`` of a SKU (by code or id) in the cart, merging with its line."""
    quantity = _check_quantity(quantity)
    cart = _open_for_write(token=token, user=user)
    sku = _sku_row(cart=cart, sku_code=sku_code, sku_id=sku_id)
    product = sku.product
    if not (sku.is_active and product.is_active and product.brand.is_active):
        raise SkuUnavailableError(sku=sku.code, reason="inactive")
    if sku.price_id is None:  # type: ignore[attr-defined]
        raise SkuUnavailableError(sku=sku.code, reason="no_price")
    line_id: int | None = sku.line_id  # type: ignore[attr-defined]
    if line_id is not None:
        existing: int = sku.line_quantity  # type: ignore[attr-defined]
        total = existing + quantity
        if total > MAX_LINE_QUANTITY:
            raise QuantityOutOfRangeError(
                "A line holds at most 20 units.",
                sku=sku.code,
                in_cart=existing,
                quantity=quantity,
                maximum=MAX_LINE_QUANTITY,
            )
        CartLine.objects.filter(pk=line_id).update(quantity=total)
        return cart
    if sku.line_count >= MAX_LINES:  # type: ignore[attr-defined]
        raise TooManyLinesError(maximum=MAX_LINES)
    CartLine.objects.create(cart_id=cart.pk, sku_id=sku.pk, quantity=quantity)
    return cart


@transaction.atomic
def set_line_quantity(*, token: str, user: Any, line_id: int, quantity: object) -> Cart:
    """Set a line's quantity (1..20); remove a line with ``remove_line``."""
    quantity = _check_quantity(quantity)
    cart = _open_for_write(token=token, user=user)
    if not pricing.is_id(line_id):
        raise CartLineNotFoundError(line_id=str(line_id)[:20])
    if not CartLine.objects.filter(cart_id=cart.pk, pk=line_id).update(quantity=quantity):
        raise CartLineNotFoundError(line_id=line_id)
    return cart


@transaction.atomic
def remove_line(*, token: str, user: Any, line_id: int) -> Cart:
    cart = _open_for_write(token=token, user=user)
    if not pricing.is_id(line_id):
        raise CartLineNotFoundError(line_id=str(line_id)[:20])
    deleted, _ = CartLine.objects.filter(cart_id=cart.pk, pk=line_id).delete()
    if not deleted:
        raise CartLineNotFoundError(line_id=line_id)
    return cart


def _merge_lines(*, source: Cart, target: Cart) -> None:
    """``source``'s lines into ``target``: same SKU → quantities added, capped at 20."""
    existing = {line.sku_id: line for line in target.lines.all()}
    count = len(existing)
    new_lines = []
    for line in source.lines.all():
        mine = existing.get(line.sku_id)
        if mine is not None:
            quantity = merged_quantity(mine.quantity, line.quantity)
            if quantity != mine.quantity:
                CartLine.objects.filter(pk=mine.pk).update(quantity=quantity)
        elif count < MAX_LINES:
            new_lines.append(CartLine(cart=target, sku_id=line.sku_id, quantity=line.quantity))
            count += 1
    CartLine.objects.bulk_create(new_lines)


@transaction.atomic
def merge_carts(*, user: Any, session_cart_token: str | None) -> str | None:
    """At sign-in: the guest cart's lines join the user's open cart.

    Returns the token to keep in the session: the user's open cart (which may be the guest
    cart, now theirs, when they had none), or None when there is no cart at all. A cart
    that belongs to another user is ignored. The guest cart ends ``merged``.
    """
    user_id = pricing.user_id_of(user)
    if user_id is None:
        return session_cart_token
    guest = None
    if isinstance(session_cart_token, str) and session_cart_token:
        guest = (
            Cart.objects.select_for_update()
            .filter(token=session_cart_token, state=CartState.OPEN)
            .first()
        )
    if guest is not None and guest.user_id == user_id:
        return guest.token
    if guest is not None and guest.user_id is not None:
        guest = None  # someone else's cart: never touched
    target = (
        Cart.objects.select_for_update()
        .filter(user_id=user_id, state=CartState.OPEN)
        .order_by("-updated_at", "-pk")
        .first()
    )
    if guest is None:
        return target.token if target else None
    if target is None:
        guest.user_id = user_id
        guest.save(update_fields=["user", "updated_at"])
        return guest.token
    _merge_lines(source=guest, target=target)
    guest.state = CartState.MERGED
    guest.save(update_fields=["state", "updated_at"])
    fields = ["updated_at"]
    if guest.referral_store_code and not target.referral_store_code:
        target.referral_store_code = guest.referral_store_code
        fields.append("referral_store_code")
    target.save(update_fields=fields)
    return target.token


# --- the session's cart (storefront pages) -------------------------------------------


def session_cart(
    *, session: MutableMapping[str, Any], user: Any, create: bool = False
) -> Cart | None:
    """The open cart of this browser session, created on the first add when ``create``.

    A signed-in shopper's guest cart is merged into theirs here too (should sign-in not
    have done it), so pages always show the user's one open cart.
    """
    token = session.get(CART_SESSION_KEY)
    token = token if isinstance(token, str) else None
    cart: Cart | None = None
    if pricing.user_id_of(user) is not None:
        token = merge_carts(user=user, session_cart_token=token)
        if token:
            cart = Cart.objects.filter(token=token, state=CartState.OPEN).first()
    elif token:
        cart = Cart.objects.filter(token=token, state=CartState.OPEN, user__isnull=True).first()
    if cart is None and create:
        referral = session.get(REFERRAL_SESSION_KEY)
        cart = create_cart(
            user=user, referral_store_code=referral if isinstance(referral, str) else ""
        )
    if cart is None:
        session.pop(CART_SESSION_KEY, None)
        return None
    if session.get(CART_SESSION_KEY) != cart.token:
        session[CART_SESSION_KEY] = cart.token
    return cart
