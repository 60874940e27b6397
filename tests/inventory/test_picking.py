"""The pick list's sums and the printed slips' texts: pure rules, no database."""

from __future__ import annotations

import pytest

from omnimall.inventory.picking import (
    PickLine,
    mask_phone,
    plan_pick_list,
)


def line(sku: str, quantity: int, request: str, location: str = "Store A (st-a)") -> PickLine:
    return PickLine(
        location=location,
        request_number=request,
        sku_code=sku,
        product_name=f"name of {sku}",
        variant="Black / M",
        quantity=quantity,
    )


def test_plan_pick_list_sums_each_sku_over_requests_when_several_need_it():
    lines = [
        line("TEE-M", 1, "FR-000002"),
        line("CAP-1", 2, "FR-000001"),
        line("TEE-M", 2, "FR-000001"),
        line("TEE-M", 3, "FR-000002"),  # the same SKU twice in one request
    ]

    (section,) = plan_pick_list(lines)

    assert [(row.sku_code, row.quantity) for row in section.rows] == [("CAP-1", 2), ("TEE-M", 6)]
    assert section.rows[1].requests == (("FR-000001", 2), ("FR-000002", 4))
    assert section.rows[1].product_name == "name of TEE-M"
    assert section.units == 8


def test_plan_pick_list_keeps_locations_apart_when_requests_come_from_several():
    lines = [line("TEE-M", 1, "FR-1", "Warehouse (wh)"), line("TEE-M", 2, "FR-2", "Store (st)")]

    sections = plan_pick_list(lines)

    assert [(s.location, s.units) for s in sections] == [("Store (st)", 2), ("Warehouse (wh)", 1)]


def test_plan_pick_list_is_empty_when_nothing_to_pick():
    assert plan_pick_list([]) == ()


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13800138000", "138****8000"),
        ("+86 138 0013 8000", "138****8000"),
        ("+8613800138000", "138****8000"),
        ("021-6234 5678", "021****5678"),
        ("12345", "*2345"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_phone_keeps_only_the_ends_when_printed(phone, shown):
    assert mask_phone(phone) == shown
