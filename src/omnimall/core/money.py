"""Money: ``Decimal`` with a currency. Rounding happens here and nowhere else (half-up, cents)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def quantize(amount: Decimal) -> Decimal:
    """Round an amount half-up to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money amounts are Decimal, never float")

    def rounded(self) -> Money:
        return Money(quantize(self.amount), self.currency)

    def __str__(self) -> str:
        return f"{quantize(self.amount)} {self.currency}"
