from __future__ import annotations

import pytest

from omnimall.inventory.domain import LevelBalance, available_to_sell, find_ledger_mismatches


@pytest.mark.parametrize(
    ("on_hand", "reserved", "safety", "lapsed", "expected"),
    [
        (10, 3, 2, 0, 5),
        (10, 0, 0, 0, 10),
        (5, 5, 0, 0, 0),
        (5, 3, 4, 0, 0),  # safety stock larger than what is left: 0, never negative
        (10, 6, 0, 4, 8),  # lapsed holds stop counting at once
        (10, 6, 1, 6, 9),
    ],
)
def test_available_to_sell_subtracts_live_holds_and_safety_when_given_counters(
    on_hand, reserved, safety, lapsed, expected
):
    result = available_to_sell(
        on_hand=on_hand, reserved=reserved, safety_stock=safety, lapsed_holds=lapsed
    )

    assert result == expected


def _balance(**overrides: int) -> LevelBalance:
    values = {
        "level_id": 1,
        "sku_id": 2,
        "location_id": 3,
        "on_hand": 10,
        "reserved": 4,
        "movements_total": 10,
        "held_total": 4,
    }
    values.update(overrides)
    return LevelBalance(**values)


def test_find_ledger_mismatches_returns_nothing_when_counters_match_ledger():
    assert (
        find_ledger_mismatches(
            [
                _balance(),
                _balance(level_id=2, on_hand=0, reserved=0, movements_total=0, held_total=0),
            ]
        )
        == []
    )


def test_find_ledger_mismatches_names_each_field_when_counters_drift():
    mismatches = find_ledger_mismatches([_balance(on_hand=11, reserved=5)])

    assert [(m.field, m.recorded, m.expected) for m in mismatches] == [
        ("on_hand", 11, 10),
        ("reserved", 5, 4),
    ]
    assert "on_hand=11 but sum of movements=10" in mismatches[0].describe()
