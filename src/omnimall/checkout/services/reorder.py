"""Buying an order again: its SKUs put back in the bag, priced as they are today.

A shopper who buys the same things again (socks, coffee, a child's next size of school
shirt) should not search for each one. ``buy_again`` adds each of an order's lines to
the bag through ``carts.add_line``, so every rule of the bag holds (a line of at most 20,
at most 50 lines, only what is on sale now; prices are never the order's, the bag is
priced at every read). A line that cannot go in is skipped with its reason, and the
rest still go in: one SKU taken off sale does not stop a repeat order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omnimall.checkout.domain import MAX_LINE_QUANTITY
from omnimall.checkout.errors import (
    QuantityOutOfRangeError,
    SkuNotFoundError,
    SkuUnavailableError,
    TooManyLinesError,
)
from omnimall.checkout.services.carts import add_line

SKIPPABLE = (SkuNotFoundError, SkuUnavailableError, QuantityOutOfRangeError, TooManyLinesError)


@dataclass(frozen=True, slots=True)
class OrderedLine:
    sku_id: int
    sku_code: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Skipped:
    sku_code: str
    reason: str  # the refusal's code: sku_unavailable, unknown_sku, quantity_out_of_range, …


@dataclass(frozen=True, slots=True)
class BoughtAgain:
    added: tuple[str, ...]  # SKU codes now in the bag
    skipped: tuple[Skipped, ...]


def buy_again(*, token: str, user: object, lines: Sequence[OrderedLine]) -> BoughtAgain:
    """Add ``lines`` to the open cart ``token`` (the caller's: 404 / 409 as for any add).
    Each line is its own add, so a skipped one leaves the others in."""
    added: list[str] = []
    skipped: list[Skipped] = []
    for line in lines:
        try:
            add_line(
                token=token,
                user=user,
                sku_id=line.sku_id,
                quantity=min(line.quantity, MAX_LINE_QUANTITY),
            )
        except SKIPPABLE as refused:
            skipped.append(Skipped(sku_code=line.sku_code, reason=refused.code))
        else:
            added.append(line.sku_code)
    return BoughtAgain(added=tuple(added), skipped=tuple(skipped))
