"""Pure catalog rules: colour names, size order, price bands. No Django here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Colour:
    code: str
    name_en: str
    name_zh: str
    hex: str


COLOURS: dict[str, Colour] = {
    c.code: c
    for c in (
        Colour("black", "Black", "黑色", "#1b1b1b"),
        Colour("white", "White", "白色", "#f5f5f5"),
        Colour("grey", "Grey", "灰色", "#8a8a8a"),
        Colour("navy", "Navy", "藏青色", "#1f2a44"),
        Colour("blue", "Blue", "蓝色", "#2f6fd6"),
        Colour("red", "Red", "红色", "#c8202f"),
        Colour("green", "Green", "绿色", "#2e7d4f"),
        Colour("beige", "Beige", "米色", "#d9c7a5"),
        Colour("brown", "Brown", "棕色", "#6b4429"),
        Colour("pink", "Pink", "粉色", "#e89ab0"),
        Colour("yellow", "Yellow", "黄色", "#e8c31c"),
        Colour("purple", "Purple", "紫色", "#6a3d9a"),
    )
}


def colour_name(code: str, *, zh: bool) -> str:
    """What the shopper sees for a SKU's colour code ("red" → "Red" / "红色"); an unknown
    code as it is."""
    colour = COLOURS.get(code)
    if colour is None:
        return code
    return colour.name_zh if zh else colour.name_en


# Clothing sizes, then shoe sizes (EU), then one-size; unknown sizes sort last by name.
SIZE_ORDER: tuple[str, ...] = (
    "XXS",
    "XS",
    "S",
    "M",
    "L",
    "XL",
    "XXL",
    "3XL",
    *(str(n) for n in range(34, 47)),
    "ONE",
)
_SIZE_RANK = {size: rank for rank, size in enumerate(SIZE_ORDER)}


def size_sort_key(size: str) -> tuple[int, str]:
    return (_SIZE_RANK.get(size, len(SIZE_ORDER)), size)


def sort_sizes(sizes: Iterable[str]) -> list[str]:
    return sorted(set(sizes), key=size_sort_key)


@dataclass(frozen=True, slots=True)
class PriceBand:
    code: str  # "100-300", "1000-" — the URL value
    low: Decimal  # inclusive
    high: Decimal | None  # exclusive; None = no upper bound

    def contains(self, price: Decimal) -> bool:
        return price >= self.low and (self.high is None or price < self.high)

    @property
    def label(self) -> str:
        if self.high is None:
            return f"¥{self.low}+"
        return f"¥{self.low}–{self.high}"


PRICE_BANDS: tuple[PriceBand, ...] = (
    PriceBand("0-100", Decimal(0), Decimal(100)),
    PriceBand("100-300", Decimal(100), Decimal(300)),
    PriceBand("300-500", Decimal(300), Decimal(500)),
    PriceBand("500-1000", Decimal(500), Decimal(1000)),
    PriceBand("1000-", Decimal(1000), None),
)
PRICE_BANDS_BY_CODE = {band.code: band for band in PRICE_BANDS}


def effective_price(list_price: Decimal, sale_price: Decimal | None) -> Decimal:
    return sale_price if sale_price is not None else list_price


def lowest_prices(
    prices: Iterable[tuple[Decimal, Decimal | None]],
) -> tuple[Decimal | None, Decimal | None]:
    """(lowest effective price, the list price of that same offer) over a product's SKUs."""
    best: tuple[Decimal, Decimal] | None = None
    for list_price, sale_price in prices:
        price = effective_price(list_price, sale_price)
        if best is None or price < best[0]:
            best = (price, list_price)
    return (best[0], best[1]) if best else (None, None)
