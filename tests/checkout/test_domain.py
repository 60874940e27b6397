"""Cart arithmetic and input rules (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnimall.checkout import domain

FREE, FEE = Decimal("99.00"), Decimal("10.00")


def test_totals_charge_shipping_below_the_threshold():
    totals = domain.cart_totals([(Decimal("49.00"), 1)], method="ship", free_from=FREE, fee=FEE)

    assert (totals.subtotal, totals.shipping, totals.total) == (
        Decimal("49.00"),
        Decimal("10.00"),
        Decimal("59.00"),
    )


def test_totals_are_free_from_the_threshold_and_for_pickup():
    at_threshold = domain.cart_totals(
        [(Decimal("33.00"), 3)], method="ship", free_from=FREE, fee=FEE
    )
    pickup = domain.cart_totals([(Decimal("1.00"), 1)], method="pickup", free_from=FREE, fee=FEE)
    empty = domain.cart_totals([], method="ship", free_from=FREE, fee=FEE)

    assert at_threshold.shipping == Decimal("0.00")
    assert pickup.shipping == Decimal("0.00")
    assert empty.total == Decimal("0.00")


def test_line_totals_round_half_up_to_the_cent():
    assert domain.line_total(Decimal("0.335"), 1) == Decimal("0.34")
    assert domain.line_total(Decimal("19.99"), 3) == Decimal("59.97")


@pytest.mark.parametrize(
    ("quantity", "valid"),
    [
        (1, True),
        (20, True),
        (0, False),
        (21, False),
        (-1, False),
        (True, False),
        ("2", False),
        (1.0, False),
        (None, False),
    ],
)
def test_is_valid_quantity(quantity, valid):
    assert domain.is_valid_quantity(quantity) is valid


def test_merged_quantity_is_capped():
    assert domain.merged_quantity(15, 10) == 20
    assert domain.merged_quantity(1, 2) == 3


@pytest.mark.parametrize(
    ("phone", "valid"),
    [
        ("13800138000", True),
        ("138 0013 8000", True),
        ("021-12345678", True),
        ("0571-8765432", True),
        ("02112345678", True),
        ("1380013800", False),
        ("23800138000", False),
        ("12345", False),
        ("phone", False),
    ],
)
def test_is_valid_phone(phone, valid):
    assert domain.is_valid_phone(phone) is valid


def test_address_errors_name_every_bad_field():
    errors = domain.address_errors(
        {
            "name": "李雷",
            "phone": "1",
            "province": "",
            "city": "上海",
            "district": "黄浦区",
            "street": "x" * 201,
            "postal_code": "abc",
        }
    )

    assert set(errors) == {"phone", "province", "street", "postal_code"}


def test_address_errors_name_an_unknown_province():
    address = {
        "name": "李雷",
        "phone": "13800138000",
        "province": "Atlantis",
        "city": "X",
        "district": "Y",
        "street": "Z 1",
    }

    assert set(domain.address_errors(address)) == {"province"}
    assert domain.address_errors({**address, "province": "新疆"}) == {}
