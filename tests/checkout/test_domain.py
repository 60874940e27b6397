"""Cart arithmetic and input rules (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnimall.checkout import domain

FREE, FEE = Decimal("99.00"), Decimal("10.00")
DEFAULT = domain.ShippingRate(fee=FEE, free_from=FREE)


def test_totals_charge_shipping_below_the_threshold():
    totals = domain.cart_totals([(Decimal("49.00"), 1)], method="ship", rate=DEFAULT)

    assert (totals.subtotal, totals.shipping, totals.total) == (
        Decimal("49.00"),
        Decimal("10.00"),
        Decimal("59.00"),
    )


def test_totals_are_free_from_the_threshold_and_for_pickup():
    at_threshold = domain.cart_totals([(Decimal("33.00"), 3)], method="ship", rate=DEFAULT)
    pickup = domain.cart_totals([(Decimal("1.00"), 1)], method="pickup", rate=DEFAULT)
    empty = domain.cart_totals([], method="ship", rate=DEFAULT)

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


REMOTE = domain.ShippingRate(
    fee=Decimal("20.00"), free_from=Decimal("299.00"), zone="偏远地区", provinces=frozenset({"XJ"})
)
ABROAD = domain.ShippingRate(
    fee=Decimal("0.00"), free_from=None, delivers=False, zone="港澳台", provinces=frozenset({"HK"})
)


def test_rate_for_is_the_zone_holding_the_province_else_the_default():
    zones = (REMOTE, ABROAD)

    assert domain.rate_for("XJ", zones=zones, default=DEFAULT) is REMOTE
    assert domain.rate_for("HK", zones=zones, default=DEFAULT) is ABROAD
    assert domain.rate_for("SH", zones=zones, default=DEFAULT) is DEFAULT
    assert domain.rate_for(None, zones=zones, default=DEFAULT) is DEFAULT


@pytest.mark.parametrize(
    ("subtotal", "method", "shipping"),
    [
        ("150.00", "ship", "20.00"),  # free by the default rate, not in the remote zone
        ("298.99", "ship", "20.00"),
        ("299.00", "ship", "0.00"),
        ("150.00", "pickup", "0.00"),
    ],
)
def test_shipping_fee_follows_the_zones_fee_and_threshold(subtotal, method, shipping):
    fee = domain.shipping_fee(subtotal=Decimal(subtotal), method=method, rate=REMOTE)

    assert fee == Decimal(shipping)


def test_shipping_fee_is_never_free_without_a_threshold():
    rate = domain.ShippingRate(fee=Decimal("15"), free_from=None)

    fee = domain.shipping_fee(subtotal=Decimal("100000.00"), method="ship", rate=rate)

    assert fee == Decimal("15.00")


def test_shipping_fee_charges_nothing_where_the_shop_does_not_deliver():
    # Checkout refuses such an address (no_delivery_to_region): no fee is ever computed for it.
    assert domain.shipping_fee(subtotal=Decimal("10"), method="ship", rate=ABROAD) == Decimal("0")


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
