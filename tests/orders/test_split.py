"""Refund splits of orders paid partly with points: cumulative parts add up exactly."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from omnimall.orders import split

cents = st.integers(min_value=1, max_value=10**7).map(lambda n: Decimal(n) / 100)


def test_money_for_value_rounds_each_part_but_the_parts_add_up():
    parts = [
        split.money_for_value(
            Decimal("59.90"),
            refunded_value_before=Decimal("59.90") * n,
            total=Decimal("179.70"),
            points_value=Decimal("50.00"),
        )
        for n in range(3)
    ]

    assert parts == [Decimal("43.23"), Decimal("43.24"), Decimal("43.23")]
    assert sum(parts) == Decimal("129.70")


def test_points_share_gives_everything_at_a_full_refund():
    assert (
        split.points_share(
            5000,
            refunded_before=Decimal("0"),
            refunded_after=Decimal("129.70"),
            money=Decimal("129.70"),
        )
        == 5000
    )
    assert (
        split.points_share(
            5000,
            refunded_before=Decimal("129.70"),
            refunded_after=Decimal("200"),
            money=Decimal("129.70"),
        )
        == 0
    )


@given(
    total=cents,
    share=st.integers(min_value=0, max_value=50),
    cuts=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=8),
    points=st.integers(min_value=0, max_value=10**6),
)
def test_any_split_of_a_full_refund_adds_up_to_the_money_and_the_points(total, share, cuts, points):
    points_value = (total * share / 100).quantize(Decimal("0.01"))
    money = total - points_value
    weights = sum(cuts)
    values = [(total * c / weights).quantize(Decimal("0.01")) for c in cuts]
    values[-1] = total - sum(values[:-1])  # the last return takes what is left

    refunded_value = Decimal("0")
    refunded_money = Decimal("0")
    got_points = 0
    got_value = Decimal("0")
    for value in values:
        part = split.money_for_value(
            value, refunded_value_before=refunded_value, total=total, points_value=points_value
        )
        assert part >= 0
        got_points += split.points_share(
            points,
            refunded_before=refunded_money,
            refunded_after=refunded_money + part,
            money=money,
        )
        got_value += split.value_share(
            total=total,
            refunded_before=refunded_money,
            refunded_after=refunded_money + part,
            money=money,
        )
        refunded_value += value
        refunded_money += part

    assert refunded_money == money
    assert got_value == (total if money > 0 else 0)
    assert got_points == (points if money > 0 else 0)
