"""Pure catalog rules: size order, price bands, lowest offers, and the listing cursor codec."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnimall.catalog.domain import (
    COLOURS,
    PRICE_BANDS,
    PRICE_BANDS_BY_CODE,
    lowest_prices,
    size_sort_key,
    sort_sizes,
)
from omnimall.catalog.listing import decode_cursor, encode_cursor


def test_sort_sizes_orders_clothing_then_shoes_then_unknown_when_mixed():
    assert sort_sizes(["42", "XL", "S", "weird", "36", "M", "ONE", "S"]) == [
        "S", "M", "XL", "36", "42", "ONE", "weird"
    ]  # fmt: skip


def test_size_sort_key_puts_unknown_sizes_last_by_name():
    assert sorted(["b", "a", "XS"], key=size_sort_key) == ["XS", "a", "b"]


@given(st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False))
def test_price_bands_cover_every_price_exactly_once_when_price_is_non_negative(price):
    assert sum(band.contains(price) for band in PRICE_BANDS) == 1


def test_price_band_bounds_are_inclusive_low_exclusive_high():
    band = PRICE_BANDS_BY_CODE["100-300"]

    assert band.contains(Decimal("100.00"))
    assert not band.contains(Decimal("300.00"))
    assert band.label == "¥100–300"
    assert PRICE_BANDS_BY_CODE["1000-"].label == "¥1000+"


def test_lowest_prices_takes_the_cheapest_effective_offer_and_its_list_price():
    offers = [
        (Decimal("300"), None),
        (Decimal("250"), Decimal("199")),
        (Decimal("220"), None),
    ]

    assert lowest_prices(offers) == (Decimal("199"), Decimal("250"))
    assert lowest_prices([]) == (None, None)


def test_colours_have_both_languages_and_a_hex_swatch():
    for colour in COLOURS.values():
        assert colour.name_en
        assert colour.name_zh
        assert colour.hex.startswith("#")
        assert len(colour.hex) == 7


# --- cursor codec ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "key"),
    [("popular", 12), ("price_asc", "199.00"), ("price_desc", None),
     ("newest", "2026-01-02T03:04:05.123456+00:00"), ("relevance", 3)],
)  # fmt: skip
def test_cursor_round_trips_when_untouched(sort, key):
    token = encode_cursor(sort=sort, forward=False, page=7, key=key, pk=42)

    cursor = decode_cursor(token, sort=sort)

    assert (cursor.forward, cursor.page, cursor.pk) == (False, 7, 42)
    assert str(cursor.key) == str(key) or cursor.key.isoformat() == key
    assert token.replace("-", "").replace("_", "").replace(".", "").isalnum()


@given(st.text(max_size=400))
def test_decode_cursor_never_raises_when_token_is_arbitrary_text(token):
    assert decode_cursor(token, sort="popular") is None


def test_decode_cursor_refuses_a_well_signed_cursor_for_another_sort():
    token = encode_cursor(sort="newest", forward=True, page=2, key=5, pk=1)

    assert decode_cursor(token, sort="newest") is None  # a non-date key for "newest"
    assert decode_cursor(token, sort="popular") is None
