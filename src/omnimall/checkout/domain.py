"""Cart arithmetic and checkout input rules, in pure Python (no Django).

Every amount a shopper sees or pays is computed here from server-side unit prices:
line totals, the subtotal of the lines that can be bought, shipping (the rate of the
ship-to province's zone, else the default rate; free for pick-up), the total. Rounding is
``core.money.quantize`` (half-up to the cent).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from omnimall.core.money import quantize

from .provinces import province_code

MAX_LINE_QUANTITY = 20  # mirrors checkout.models.MAX_LINE_QUANTITY (the DB constraint)
ZERO = Decimal("0.00")

MOBILE_RE = re.compile(r"^1\d{10}$")  # mainland mobile: 11 digits starting with 1
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")  # 021-12345678[-ext]
POSTAL_CODE_RE = re.compile(r"^\d{6}$")

ADDRESS_FIELDS = {
    "name": 60,
    "phone": 20,
    "province": 40,
    "city": 40,
    "district": 40,
    "street": 200,
}


class Method(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"


class Flag(StrEnum):
    """Why a cart line cannot be bought now. Flagged lines stay in the cart, unpriced."""

    SKU_INACTIVE = "sku_inactive"
    PRODUCT_INACTIVE = "product_inactive"
    NO_PRICE = "no_price"
    OUT_OF_STOCK = "out_of_stock"


@dataclass(frozen=True, slots=True)
class ShippingRate:
    """What delivery to a province costs: a shipping zone's rate, or the default rate
    (``zone`` empty) for provinces in no zone."""

    fee: Decimal
    free_from: Decimal | None  # the subtotal from which delivery is free; None: never free
    delivers: bool = True  # False: the shop does not deliver there at all
    zone: str = ""  # the zone's (Chinese) name; empty for the default rate
    zone_en: str = ""  # its English name, when it has one
    provinces: frozenset[str] = frozenset()  # codes (``checkout.provinces``) of the zone
    # The usual delivery time, in days from shipping: (fewest, most); None: not said.
    days: tuple[int, int] | None = None


MAX_DELIVERY_DAYS = 60


def delivery_days_error(fewest: object, most: object) -> str:
    """The problem with a usual delivery time of ``fewest``–``most`` days, or ``""``: both
    given or neither, whole days from 1 to ``MAX_DELIVERY_DAYS``, the fewest first."""
    if fewest is None and most is None:
        return ""
    if fewest is None or most is None:
        return "give both the fewest and the most days, or neither"
    if not isinstance(fewest, int) or not isinstance(most, int):
        return "whole days"
    if not 1 <= fewest <= most <= MAX_DELIVERY_DAYS:
        return f"from 1 to {MAX_DELIVERY_DAYS} days, the fewest first"
    return ""


def rate_for(
    province: str | None, *, zones: Iterable[ShippingRate], default: ShippingRate
) -> ShippingRate:
    """The rate of the zone holding ``province`` (a code), else the default rate. With no
    province known yet (a cart before checkout) that is the default rate: an estimate."""
    if province is not None:
        for zone in zones:
            if province in zone.provinces:
                return zone
    return default


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Decimal
    shipping: Decimal
    total: Decimal
    item_count: int  # units in the lines that can be bought


def is_valid_quantity(quantity: object) -> bool:
    """A whole number 1..MAX_LINE_QUANTITY (``True``, ``"2"`` and ``1.5`` are not)."""
    return (
        isinstance(quantity, int)
        and not isinstance(quantity, bool)
        and 1 <= quantity <= MAX_LINE_QUANTITY
    )


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return quantize(unit_price * quantity)


def shipping_fee(
    *, subtotal: Decimal, method: str, rate: ShippingRate, has_lines: bool = True
) -> Decimal:
    """Free for pick-up, for an empty basket, and from the rate's ``free_from``; else its
    fee. Nothing either where the rate does not deliver: checkout refuses such an address
    (``no_delivery_to_region``), so no fee is ever charged for it."""
    if method == Method.PICKUP or not has_lines or not rate.delivers:
        return ZERO
    if rate.free_from is not None and subtotal >= rate.free_from:
        return ZERO
    return quantize(rate.fee)


def cart_totals(lines: Iterable[tuple[Decimal, int]], *, method: str, rate: ShippingRate) -> Totals:
    """Totals over ``(unit_price, quantity)`` of the lines that can be bought."""
    subtotal = ZERO
    units = 0
    for unit_price, quantity in lines:
        subtotal += line_total(unit_price, quantity)
        units += quantity
    subtotal = quantize(subtotal)
    shipping = shipping_fee(subtotal=subtotal, method=method, rate=rate, has_lines=units > 0)
    return Totals(
        subtotal=subtotal, shipping=shipping, total=quantize(subtotal + shipping), item_count=units
    )


def merged_quantity(existing: int, added: int) -> int:
    """Quantity after merging two lines of one SKU, capped at the per-line maximum."""
    return min(existing + added, MAX_LINE_QUANTITY)


def is_valid_phone(phone: str) -> bool:
    """A mainland mobile (``13812345678``) or a landline with area code (``021-12345678``)."""
    compact = phone.replace(" ", "")
    return bool(MOBILE_RE.match(compact) or LANDLINE_RE.match(compact))


def clean_phone(phone: str) -> str:
    return phone.replace(" ", "").strip()


def has_control_characters(value: str) -> bool:
    """NUL and other control characters (PostgreSQL refuses NUL in any text)."""
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def text_errors(data: Mapping[str, object], limits: Mapping[str, int]) -> dict[str, str]:
    """``{field: problem}`` for required one-line text fields with length limits."""
    errors: dict[str, str] = {}
    for field, limit in limits.items():
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            errors[field] = "required"
        elif len(value.strip()) > limit:
            errors[field] = f"at most {limit} characters"
        elif has_control_characters(value):
            errors[field] = "control characters are not allowed"
    return errors


def address_errors(data: Mapping[str, object]) -> dict[str, str]:
    """``{field: problem}`` for a Chinese-format address; empty when it is valid."""
    errors = text_errors(data, ADDRESS_FIELDS)
    phone = data.get("phone")
    if "phone" not in errors and isinstance(phone, str) and not is_valid_phone(phone):
        errors["phone"] = "not a mobile (1xxxxxxxxxx) or landline (0xx-xxxxxxxx) number"
    province = data.get("province")
    if "province" not in errors and province_code(province) is None:
        errors["province"] = "not a province, autonomous region or municipality of China"
    postal = data.get("postal_code") or ""
    if not isinstance(postal, str) or (postal and not POSTAL_CODE_RE.match(postal.strip())):
        errors["postal_code"] = "six digits"
    return errors


NOTE_MAX_LENGTH = 200  # what fits on a packing slip and a courier's label


def note_error(note: object) -> str:
    """The problem with a shopper's note to the shop (买家留言), or ``""``: text, at most
    ``NOTE_MAX_LENGTH`` characters once its spaces and line breaks are tidied, no control
    characters. None or empty: no note."""
    if note is None:
        return ""
    if not isinstance(note, str):
        return "text"
    tidy = clean_note(note)
    if has_control_characters(tidy):
        return "control characters are not allowed"
    if len(tidy) > NOTE_MAX_LENGTH:
        return f"at most {NOTE_MAX_LENGTH} characters"
    return ""


def clean_note(note: object) -> str:
    """One line: runs of spaces, tabs and line breaks become one space (a warehouse prints
    it on one line of the slip)."""
    return " ".join(str(note or "").split())


def clean_address(data: Mapping[str, object]) -> dict[str, str]:
    """The address fields, stripped (call after ``address_errors`` found none)."""
    cleaned = {field: str(data.get(field) or "").strip() for field in ADDRESS_FIELDS}
    cleaned["phone"] = clean_phone(cleaned["phone"])
    cleaned["postal_code"] = str(data.get("postal_code") or "").strip()
    return cleaned
