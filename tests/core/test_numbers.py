"""Order numbers as people read them out."""

from __future__ import annotations

from omnimall.core.numbers import display_number


def test_an_order_number_is_grouped_six_and_six():
    assert display_number("261127482193") == "261127 482193"
    assert display_number("SO-1") == "SO-1"
