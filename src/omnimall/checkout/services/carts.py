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

import functools
import secrets
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from omnimall.catalog.models import Brand, Price, PriceList, Product, Sku
from omnimall.channels.models import SalesChannel
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


@functools.cache
def _lock_sql(*, for_update: bool) -> str:
    """Hand-written (hot path: every cart write starts here): the cart row by token,
    locked where the database can lock rows; compiling the queryset cost more than running
    it. Columns in ``Cart``'s field order (``Cart.from_db``)."""
    columns = ", ".join(str(field.column) for field in Cart._meta.concrete_fields)
    lock = " FOR UPDATE" if for_update else ""
    return f"SELECT {columns} FROM {Cart._meta.db_table} WHERE token = %s{lock}"  # noqa: S608


def _aware(value: Any) -> Any:
    """A datetime column as the ORM gives it (SQLite's are naive UTC)."""
    if isinstance(value, datetime) and settings.USE_TZ and timezone.is_naive(value):
        return timezone.make_aware(value, UTC)
    return value


def _open_for_write(*, token: str, user: Any) -> Cart:
    """The caller's cart, locked (``SELECT … FOR UPDATE``: a concurrent checkout of it
    waits, or this waits for the checkout); 409 unless it is open. One query."""
    if not pricing.is_token(token):
        raise CartNotFoundError()
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(for_update=connection.features.has_select_for_update), [token])
        row = cursor.fetchone()
    cart = None
    if row is not None:
        names = [field.attname for field in Cart._meta.concrete_fields]
        cart = Cart.from_db(connection.alias, names, [_aware(value) for value in row])
    if cart is None or not pricing.may_use(cart, pricing.user_id_of(user)):
        raise CartNotFoundError()
    if cart.state != CartState.OPEN:
        raise CartClosedError(state=cart.state)
    return cart


def create_cart(
    *, user: Any, channel_code: str = DEFAULT_CHANNEL, referral_store_code: str = ""
) -> Cart:
    """A new empty cart; a signed-in shopper's cart is theirs alone.

    One INSERT, atomic on its own: no transaction block around it (BEGIN and COMMIT
    would be two more round trips than the work itself)."""
    return Cart.objects.create(
        token=_new_token(),
        user_id=pricing.user_id_of(user),
        channel_code=channel_code or DEFAULT_CHANNEL,
        referral_store_code=(referral_store_code or "")[:40],
    )


class _SkuRow(NamedTuple):
    """The SKU asked for, as ``_sku_sql`` reads it for one cart."""

    sku_id: int
    code: str
    sku_active: bool
    product_active: bool
    brand_active: bool
    line_id: int | None  # this cart's line of the SKU (at most one: unique cart + SKU)
    line_quantity: int | None
    line_count: int  # lines in the cart
    price_id: int | None  # its price in the cart's channel, if any


def _price_exists(sku: str) -> str:
    """SQL: the price id of SKU column ``sku`` in the price list of channel ``%s``."""
    return f"""SELECT pr.id FROM {Price._meta.db_table} pr
        INNER JOIN {PriceList._meta.db_table} pl ON pl.id = pr.price_list_id
        INNER JOIN {SalesChannel._meta.db_table} ch ON ch.id = pl.channel_id
        WHERE ch.code = %s AND pr.sku_id = {sku}"""  # noqa: S608 (names from the models)


@functools.cache
def _sku_sql(*, by_id: bool) -> str:
    """Hand-written (hot path: every add-to-cart): the SKU by id or code with its product's
    and brand's state, the cart's line of it, the cart's line count and its price id in one
    statement; the equivalent queryset took longer to compile than to run."""
    lines = CartLine._meta.db_table
    return f"""SELECT s.id, s.code, s.is_active, p.is_active, b.is_active, l.id, l.quantity,
    (SELECT COUNT(*) FROM {lines} n WHERE n.cart_id = %s),
    ({_price_exists("s.id")} LIMIT 1)
FROM {Sku._meta.db_table} s
INNER JOIN {Product._meta.db_table} p ON p.id = s.product_id
INNER JOIN {Brand._meta.db_table} b ON b.id = p.brand_id
LEFT JOIN {lines} l ON l.cart_id = %s AND l.sku_id = s.id
WHERE s.{"id" if by_id else "code"} = %s"""  # noqa: S608 (names from the models)


@functools.cache
def _put_line_sql(*, by_id: bool) -> str:
    """Hand-written (hot path): the common add-to-cart in one statement (an upsert).

    Writes only when every rule of ``add_line`` lets the units in: the SKU exists, it,
    its product and its brand are active, it has a price in the cart's channel, and then
    either the cart has no line of it and fewer than ``MAX_LINES`` lines (a new line) or
    it has one and the sum stays within ``MAX_LINE_QUANTITY`` (the line's quantity
    grows; ``ON CONFLICT`` on the cart + SKU unique constraint). When it writes nothing,
    ``add_line`` reads the SKU (``_sku_sql``) and raises the error that rule deserves.
    Runs under the cart's lock, like every line write, so nothing changes the cart's
    lines between the two statements. SQLite (3.24+) and PostgreSQL share the syntax.
    """
    lines = CartLine._meta.db_table
    return f"""INSERT INTO {lines} (cart_id, sku_id, quantity, added_at)
SELECT %s, s.id, %s, %s
FROM {Sku._meta.db_table} s
INNER JOIN {Product._meta.db_table} p ON p.id = s.product_id
INNER JOIN {Brand._meta.db_table} b ON b.id = p.brand_id
WHERE s.{"id" if by_id else "code"} = %s AND s.is_active AND p.is_active AND b.is_active
    AND EXISTS ({_price_exists("s.id")})
    AND ((SELECT COUNT(*) FROM {lines} n WHERE n.cart_id = %s) < %s
         OR EXISTS (SELECT 1 FROM {lines} l WHERE l.cart_id = %s AND l.sku_id = s.id))
ON CONFLICT (cart_id, sku_id) DO UPDATE SET quantity = {lines}.quantity + excluded.quantity
WHERE {lines}.quantity + excluded.quantity <= %s"""  # noqa: S608 (names from the models)


def _clean_sku(*, sku_code: str | None, sku_id: int | None) -> int | str:
    """The SKU id or code to look up; a malformed one is not found (no query)."""
    if sku_id is not None:
        if not pricing.is_id(sku_id):
            raise SkuNotFoundError(sku_id=str(sku_id)[:20])
        return sku_id
    if not isinstance(sku_code, str) or not sku_code or len(sku_code) > 64 or "\x00" in sku_code:
        raise SkuNotFoundError(sku=str(sku_code)[:64])
    return sku_code


def _put_line(*, cart: Cart, key: int | str, quantity: int) -> bool:
    """``_put_line_sql`` run: True when the units went in (a new line or a merge)."""
    added_at = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [cart.pk, quantity, added_at, key, cart.channel_code, cart.pk, MAX_LINES, cart.pk]
    with connection.cursor() as cursor:
        cursor.execute(_put_line_sql(by_id=not isinstance(key, str)), [*params, MAX_LINE_QUANTITY])
        return cursor.rowcount == 1


def _sku_row(*, cart: Cart, key: int | str) -> _SkuRow:
    """The SKU asked for, with this cart's line of it and the cart's line count (1 query)."""
    by_id = not isinstance(key, str)
    with connection.cursor() as cursor:
        cursor.execute(_sku_sql(by_id=by_id), [cart.pk, cart.channel_code, cart.pk, key])
        row = cursor.fetchone()
    if row is None:
        raise SkuNotFoundError(sku=key)
    return _SkuRow._make(row)


@transaction.atomic
def add_line(
    *,
    token: str,
    user: Any,
    quantity: object,
    sku_code: str | None = None,
    sku_id: int | None = None,
) -> Cart:
    """Put ``quantity`` of a SKU (by code or id) in the cart, merging with its line.

    Two statements when it succeeds (lock the cart, write the line if every rule allows
    it: ``_put_line_sql``); only a refusal reads the SKU to tell which rule refuses.
    """
    quantity = _check_quantity(quantity)
    cart = _open_for_write(token=token, user=user)
    key = _clean_sku(sku_code=sku_code, sku_id=sku_id)
    if _put_line(cart=cart, key=key, quantity=quantity):
        return cart
    sku = _sku_row(cart=cart, key=key)
    if not (sku.sku_active and sku.product_active and sku.brand_active):
        raise SkuUnavailableError(sku=sku.code, reason="inactive")
    if sku.price_id is None:
        raise SkuUnavailableError(sku=sku.code, reason="no_price")
    if sku.line_id is not None:
        existing = sku.line_quantity
        assert existing is not None  # noqa: S101 (a line always has a quantity)
        total = existing + quantity
        if total > MAX_LINE_QUANTITY:
            raise QuantityOutOfRangeError(
                "A line holds at most 20 units.",
                sku=sku.code,
                in_cart=existing,
                quantity=quantity,
                maximum=MAX_LINE_QUANTITY,
            )
        CartLine.objects.filter(pk=sku.line_id).update(quantity=total)
        return cart
    if sku.line_count >= MAX_LINES:
        raise TooManyLinesError(maximum=MAX_LINES)
    CartLine.objects.create(cart_id=cart.pk, sku_id=sku.sku_id, quantity=quantity)
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
    if pricing.is_token(session_cart_token):  # an app's value too: never a NUL to the database
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
