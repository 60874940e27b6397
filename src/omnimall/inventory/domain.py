"""Pure stock rules: availability arithmetic and the ledger balance check. No Django here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def available_to_sell(
    *, on_hand: int, reserved: int, safety_stock: int, lapsed_holds: int = 0
) -> int:
    """Units that may still be promised: on_hand − live holds − safety stock, never below 0.

    ``reserved`` still includes holds past their expiry until a service releases them;
    ``lapsed_holds`` (their total) is added back so an expired hold stops counting at once.
    """
    live_reserved = max(reserved - lapsed_holds, 0)
    return max(on_hand - live_reserved - safety_stock, 0)


@dataclass(frozen=True, slots=True)
class Shortage:
    """One line that could not be served: what was asked and what was available."""

    sku_id: int
    location_id: int | None
    requested: int
    available: int

    def as_dict(self) -> dict[str, int | None]:
        return {
            "sku_id": self.sku_id,
            "location_id": self.location_id,
            "requested": self.requested,
            "available": self.available,
        }


@dataclass(frozen=True, slots=True)
class LevelBalance:
    """A stock level's counters beside what its ledger and its held reservations add up to."""

    level_id: int
    sku_id: int
    location_id: int
    on_hand: int
    reserved: int
    movements_total: int
    held_total: int


@dataclass(frozen=True, slots=True)
class LedgerMismatch:
    level_id: int
    sku_id: int
    location_id: int
    field: str  # "on_hand" or "reserved"
    recorded: int
    expected: int

    def describe(self) -> str:
        source = "sum of movements" if self.field == "on_hand" else "sum of held reservations"
        return (
            f"level {self.level_id} (sku {self.sku_id}, location {self.location_id}): "
            f"{self.field}={self.recorded} but {source}={self.expected}"
        )


def find_ledger_mismatches(balances: Iterable[LevelBalance]) -> list[LedgerMismatch]:
    """Every level whose ``on_hand`` ≠ Σ movements or ``reserved`` ≠ Σ held reservations."""
    mismatches: list[LedgerMismatch] = []
    for b in balances:
        for field, recorded, expected in (
            ("on_hand", b.on_hand, b.movements_total),
            ("reserved", b.reserved, b.held_total),
        ):
            if recorded != expected:
                mismatches.append(
                    LedgerMismatch(
                        level_id=b.level_id,
                        sku_id=b.sku_id,
                        location_id=b.location_id,
                        field=field,
                        recorded=recorded,
                        expected=expected,
                    )
                )
    return mismatches
