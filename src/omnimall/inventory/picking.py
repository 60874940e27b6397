"""What the printed packing slips and pick list say: pure rules, no Django.

A pick list is the selected requests' lines summed per SKU, so one walk along the shelves
picks everything; the packing slips then split the picked units into parcels. A pick list
never mixes locations: its lines are grouped by the location that holds them first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Requests whose goods are still to be picked: an open or accepted request. A shipped,
# rejected or cancelled one is left off the pick list (and said so on the page).
PICKABLE_STATES = frozenset({"open", "accepted"})


@dataclass(frozen=True, slots=True)
class PickLine:
    """One unshipped line of one request, as the pick list reads it."""

    location: str  # the location's name, as printed
    request_number: str
    sku_code: str
    product_name: str  # in the reader's language
    variant: str  # colour / size, in the reader's language
    quantity: int


@dataclass(frozen=True, slots=True)
class PickRow:
    sku_code: str
    product_name: str
    variant: str
    quantity: int
    requests: tuple[tuple[str, int], ...]  # (request number, units), by number


@dataclass(frozen=True, slots=True)
class PickSection:
    location: str
    rows: tuple[PickRow, ...]  # by SKU code

    @property
    def units(self) -> int:
        return sum(row.quantity for row in self.rows)


def plan_pick_list(lines: Iterable[PickLine]) -> tuple[PickSection, ...]:
    """The lines summed per SKU within each location; locations by name, SKUs by code."""
    by_location: dict[str, dict[str, list[PickLine]]] = {}
    for line in lines:
        by_location.setdefault(line.location, {}).setdefault(line.sku_code, []).append(line)
    return tuple(
        PickSection(
            location=location,
            rows=tuple(_row(skus[code]) for code in sorted(skus)),
        )
        for location, skus in sorted(by_location.items())
    )


def _row(lines: list[PickLine]) -> PickRow:
    per_request: dict[str, int] = {}
    for line in lines:
        per_request[line.request_number] = per_request.get(line.request_number, 0) + line.quantity
    first = lines[0]
    return PickRow(
        sku_code=first.sku_code,
        product_name=first.product_name,
        variant=first.variant,
        quantity=sum(per_request.values()),
        requests=tuple(sorted(per_request.items())),
    )


def mask_phone(phone: str) -> str:
    """``13800138000`` → ``138****8000``: a pick-up slip waits on a shelf in the store for
    days, where anyone passing can read it; the last four digits are enough to match it to
    the shopper at the counter. ``+86`` and spaces are dropped first."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("+"):
        digits = digits[1:]
    if len(digits) >= 8:
        return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
    if len(digits) > 4:
        return f"{'*' * (len(digits) - 4)}{digits[-4:]}"
    return "*" * len(digits)
