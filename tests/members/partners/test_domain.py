"""Pure conversion rules (no database)."""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from omnimall.members.partners import domain

rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000"), places=4)
points = st.integers(min_value=0, max_value=10**9)


@given(points, rates)
def test_inbound_is_the_floor_of_points_times_rate(partner_points, rate):
    brand = domain.brand_points_in(partner_points, rate)

    assert brand == math.floor(Decimal(partner_points) * rate)


@given(points, rates)
def test_outbound_quote_never_charges_more_than_asked_and_gives_the_most(brand_points, rate):
    quote = domain.outbound_quote(brand_points, rate)

    assert 0 <= quote.brand_points <= brand_points
    assert quote.brand_points == math.ceil(Decimal(quote.partner_points) * rate)
    # one more partner point would cost more than the member offered
    assert math.ceil(Decimal(quote.partner_points + 1) * rate) > brand_points


def test_outbound_quote_examples():
    assert domain.outbound_quote(1005, Decimal("10")) == domain.OutboundQuote(100, 1000)
    assert domain.outbound_quote(100, Decimal("3")) == domain.OutboundQuote(33, 99)
    assert domain.outbound_quote(9, Decimal("10")) == domain.OutboundQuote(0, 0)
    assert domain.outbound_quote(0, Decimal("1")) == domain.OutboundQuote(0, 0)


def test_payload_hash_ignores_key_order():
    assert domain.payload_hash({"a": 1, "b": 2}) == domain.payload_hash({"b": 2, "a": 1})
    assert domain.payload_hash({"a": 1}) != domain.payload_hash({"a": 2})
