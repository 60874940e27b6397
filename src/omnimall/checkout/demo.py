"""Demo data only: the cart an order of the demo history was checked out from, dated
when it was (``orders.demo``, ``core.demo``)."""

from __future__ import annotations

from omnimall.checkout.models import Cart, CartLine
from omnimall.core.demo import TimeMap


def backdate_cart(*, token: str, timeline: TimeMap) -> None:
    timeline.shift(CartLine.objects.filter(cart__token=token), "added_at")
    timeline.shift(Cart.objects.filter(token=token), "created_at", "updated_at")
