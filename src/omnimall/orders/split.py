"""How an order paid partly with points splits its refunds: pure arithmetic, no Django.

An order of ``total`` was paid ``points_value`` with points and ``money = total −
points_value`` through the gateway. Everything proportional is computed *cumulatively*
(the share of what has been refunded so far, minus the share of what had been refunded
before) so that several partial refunds add up, to the cent and to the point, to exactly
what a single full refund would give:

- ``money_for_value``: the gateway part of a refunded *value* (a return's unit prices ×
  quantities), half up to the cent;
- ``points_share``: points spent / earned that go back for the money refunded so far
  (``members.domain.share``: half up, within ``0..points``);
- ``value_share``: the order value (tier spend) a money refund stands for.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from omnimall.members.domain import share

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money_part(value: Decimal, *, total: Decimal, points_value: Decimal) -> Decimal:
    """The gateway share of ``value`` of an order (``value × money / total``), to the cent."""
    if value <= 0 or total <= 0:
        return ZERO
    money = total - points_value
    if value >= total:
        return _cents(money)
    return _cents(value * money / total)


def money_for_value(
    value: Decimal, *, refunded_value_before: Decimal, total: Decimal, points_value: Decimal
) -> Decimal:
    """The money to refund for ``value`` more of the order, cumulatively exact."""
    after = money_part(refunded_value_before + value, total=total, points_value=points_value)
    before = money_part(refunded_value_before, total=total, points_value=points_value)
    return max(after - before, ZERO)


def points_share(
    points: int, *, refunded_before: Decimal, refunded_after: Decimal, money: Decimal
) -> int:
    """Points going back for raising the money refunded from ``refunded_before`` to
    ``refunded_after`` (of ``money`` paid): cumulative, so the parts add up to ``points``."""
    return max(share(points, refunded_after, money) - share(points, refunded_before, money), 0)


def value_share(
    *, total: Decimal, refunded_before: Decimal, refunded_after: Decimal, money: Decimal
) -> Decimal:
    """The part of ``total`` (tier spend) that a money refund from ``refunded_before`` to
    ``refunded_after`` (of ``money``) stands for, cumulatively exact."""
    if money <= 0 or total <= 0:
        return ZERO

    def upto(refunded: Decimal) -> Decimal:
        if refunded >= money:
            return total
        return _cents(total * max(refunded, ZERO) / money)

    return max(upto(refunded_after) - upto(refunded_before), ZERO)
