"""Brakes on hoarding stock through unpaid orders (flash-sale bots do; so do mistakes).

Every checkout holds its units for ``CHECKOUT_HOLD_MINUTES`` while payment is awaited, so
orders that are never paid keep stock from shoppers who would pay. Before a cart becomes
an order:

* a client address may start ``CHECKOUT_RATE_PER_ADDRESS`` checkouts per
  ``CHECKOUT_RATE_WINDOW_SECONDS`` (429 ``too_many_checkouts`` with ``Retry-After``;
  counted in the cache, ``core.rate_limit``);
* a shopper — a signed-in one by account, a guest by contact phone — may have
  ``CHECKOUT_MAX_UNPAID`` orders awaiting payment at once (409 ``too_many_unpaid_orders``;
  one query; a signed-in shopper's refusal lists their unpaid orders' numbers in
  ``details.orders``). Paying, cancelling or the hold's expiry frees a place. A guest
  refused for a phone someone else typed into their orders signs in and goes on.

Either set to 0 turns its brake off. Both are checked before the checkout's transaction,
so concurrent checkouts by one shopper may pass the count together: a brake, not a lock.
"""

from __future__ import annotations

from django.conf import settings

from omnimall.checkout.errors import TooManyCheckoutsError, TooManyUnpaidOrdersError
from omnimall.core import rate_limit
from omnimall.orders.selectors.unpaid import count_awaiting_payment, list_awaiting_payment

SCOPE = "checkout"


def check_may_check_out(*, client: str, user_id: int | None, phone: str) -> None:
    wait = rate_limit.take(
        SCOPE,
        client,
        limit=settings.CHECKOUT_RATE_PER_ADDRESS,
        window=settings.CHECKOUT_RATE_WINDOW_SECONDS,
    )
    if wait:
        raise TooManyCheckoutsError(retry_after=wait)
    most = settings.CHECKOUT_MAX_UNPAID
    if most > 0 and count_awaiting_payment(user_id=user_id, phone=phone) >= most:
        if user_id is None:  # a guest: the phone's orders are not theirs to list
            raise TooManyUnpaidOrdersError(limit=most)
        # A signed-in shopper (an app too) learns which orders to pay or cancel.
        unpaid = list_awaiting_payment(user_id=user_id, guest_tokens={})
        raise TooManyUnpaidOrdersError(limit=most, orders=[order.number for order in unpaid])
