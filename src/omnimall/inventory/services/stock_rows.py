"""Rows of a stock count or a receipt: their validation, pure Python, and result types.

Shared by the stock-report and receipt API (``reports``) and the nightly stock file
(``imports``). ``check_count_rows`` and ``check_receipt_rows`` look at every row and return
every problem (never stop at the first), so one answer lists all that must be fixed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from omnimall.core.errors import ValidationFailedError
from omnimall.inventory.domain import MAX_UNITS

CHUNK = 2000
MAX_LISTED_ERRORS = 1000
_WHOLE_NUMBER = re.compile(r"^\s*[+-]?\d+\s*$")

Pair = tuple[int, int]  # (location_id, sku_id)


@dataclass(frozen=True, slots=True)
class RowError:
    row: int | None  # the caller's numbering: a line index, or a line of a file
    sku: str
    code: str
    message: str
    location: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "location": self.location,
            "sku": self.sku,
            "code": self.code,
            "message": self.message,
        }


class RowsRejectedError(ValidationFailedError):
    code = "rows_rejected"
    message = "Some rows were rejected; nothing was applied."

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = tuple(errors)
        super().__init__(
            f"{len(self.errors)} row(s) rejected; nothing was applied.",
            rejected=len(self.errors),
            rows=[error.as_dict() for error in self.errors[:MAX_LISTED_ERRORS]],
        )


@dataclass(frozen=True, slots=True)
class CountRow:
    """One row as received: a location code, a SKU code and a raw count (or quantity)."""

    row: int
    location: str
    sku: str
    count: object


@dataclass(frozen=True, slots=True)
class LevelSnapshot:
    level_id: int
    on_hand: int
    reserved: int


@dataclass(frozen=True, slots=True)
class Target:
    """A validated row: what to set (a count) or add (a receipt quantity)."""

    row: int
    location: str
    sku: str
    location_id: int
    sku_id: int
    value: int


@dataclass(frozen=True, slots=True)
class LineResult:
    row: int
    location: str
    sku: str
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True, slots=True)
class BatchResult:
    lines: tuple[LineResult, ...]

    @property
    def changed(self) -> int:
        return sum(1 for line in self.lines if line.delta)

    @property
    def units_added(self) -> int:
        return sum(line.delta for line in self.lines if line.delta > 0)

    @property
    def units_removed(self) -> int:
        return -sum(line.delta for line in self.lines if line.delta < 0)

    def totals(self) -> dict[str, int]:
        return {
            "lines": len(self.lines),
            "changed": self.changed,
            "units_added": self.units_added,
            "units_removed": self.units_removed,
            "net": self.units_added - self.units_removed,
        }


# --- validation (pure) ---------------------------------------------------------------


def parse_whole_number(value: object) -> int | None:
    """An int from an int, an integral float or a string of digits; None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _WHOLE_NUMBER.match(value):
        return int(value)
    return None


def _row_key(row: CountRow) -> tuple[str, str]:
    return (row.location.strip(), row.sku.strip())


def check_count_rows(
    rows: Iterable[CountRow],
    *,
    locations: Mapping[str, int],
    skus: Mapping[str, int],
    levels: Mapping[Pair, LevelSnapshot],
    tick: Callable[[int], object] | None = None,
) -> tuple[list[Target], list[RowError]]:
    """Validate absolute counts; returns the targets and every problem found.

    ``tick(n)`` is called every ``CHUNK`` rows (and at the end) for a progress bar."""
    targets: list[Target] = []
    errors: list[RowError] = []
    first_seen: dict[tuple[str, str], int] = {}
    seen = 0
    for row in rows:
        seen += 1
        if tick is not None and seen % CHUNK == 0:
            tick(CHUNK)
        location, sku = _row_key(row)
        found = _check_codes(row, locations=locations, skus=skus)
        count = parse_whole_number(row.count)
        if count is None:
            found.append(_error(row, "invalid_count", f"count {row.count!r} is not a whole number"))
        elif count < 0:
            found.append(_error(row, "negative_count", f"count {count} is below zero"))
        elif count > MAX_UNITS:
            found.append(_error(row, "count_too_large", f"count {count} is above {MAX_UNITS}"))
        if (location, sku) in first_seen:
            found.append(
                _error(
                    row,
                    "duplicate_sku",
                    f"SKU {sku} at {location} appears again (first at row "
                    f"{first_seen[(location, sku)]})",
                )
            )
        else:
            first_seen[(location, sku)] = row.row
        if found or count is None:
            errors.extend(found)
            continue
        pair = (locations[location], skus[sku])
        level = levels.get(pair)
        if level is not None and count < level.reserved:
            errors.append(below_reserved(row, count=count, reserved=level.reserved))
            continue
        targets.append(Target(row.row, location, sku, pair[0], pair[1], count))
    if tick is not None:
        tick(seen % CHUNK)
    return targets, errors


def check_receipt_rows(
    rows: Iterable[CountRow], *, locations: Mapping[str, int], skus: Mapping[str, int]
) -> tuple[list[Target], list[RowError]]:
    """Validate received quantities (whole numbers above zero, each SKU once)."""
    targets: list[Target] = []
    errors: list[RowError] = []
    first_seen: dict[tuple[str, str], int] = {}
    for row in rows:
        location, sku = _row_key(row)
        found = _check_codes(row, locations=locations, skus=skus)
        quantity = parse_whole_number(row.count)
        if quantity is None or not 0 < quantity <= MAX_UNITS:
            found.append(
                _error(
                    row,
                    "invalid_quantity",
                    f"quantity {row.count!r} is not a whole number from 1 to {MAX_UNITS}",
                )
            )
        if (location, sku) in first_seen:
            found.append(
                _error(
                    row,
                    "duplicate_sku",
                    f"SKU {sku} appears again (row {first_seen[(location, sku)]})",
                )
            )
        else:
            first_seen[(location, sku)] = row.row
        if found or quantity is None:
            errors.extend(found)
            continue
        targets.append(Target(row.row, location, sku, locations[location], skus[sku], quantity))
    return targets, errors


def _error(row: CountRow, code: str, message: str) -> RowError:
    return RowError(row=row.row, location=row.location, sku=row.sku, code=code, message=message)


def _check_codes(
    row: CountRow, *, locations: Mapping[str, int], skus: Mapping[str, int]
) -> list[RowError]:
    location, sku = _row_key(row)
    found: list[RowError] = []
    if location not in locations:
        found.append(_error(row, "unknown_location", f"no stock location {location!r}"))
    if sku not in skus:
        found.append(_error(row, "unknown_sku", f"no SKU {sku!r}"))
    return found


def below_reserved(row: CountRow, *, count: int, reserved: int) -> RowError:
    return _error(
        row,
        "below_reserved",
        f"count {count} is below the {reserved} units reserved for shoppers; ship or "
        "release those holds first",
    )
