"""record_till_return: restock, reverse the earned share, restore points paid, once."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnimall.inventory.models import MovementKind, StockMovement
from omnimall.members.models import MemberPurchase
from omnimall.members.selectors.points import ledger_mismatches
from omnimall.members.services import points as points_services
from omnimall.pos.errors import (
    ReturnConflictError,
    ReturnExceedsSaleError,
    ReturnLineError,
    UnknownReceiptError,
)
from omnimall.pos.models import ReceiptLine, ReceiptSource, TillReturn
from omnimall.pos.services import returns, sales
from tests.inventory.factories import level_of
from tests.pos.factories import (
    ACTOR,
    make_member,
    make_shop,
    receipt_body,
    return_body,
    return_of,
    sale_of,
)

pytestmark = pytest.mark.django_db


def _sell(shop, **kwargs):
    body = receipt_body(shop, **kwargs)
    sales.record_sale(
        sale=sale_of(body), store_id=shop.store.pk, source=ReceiptSource.API, actor=ACTOR
    )
    return body["receipt_number"]


def _return(shop, **kwargs):
    return returns.record_till_return(
        till_return=return_of(return_body(shop, **kwargs)), store_id=shop.store.pk, actor=ACTOR
    )


def _ledgers_ok():
    call_command("check_stock_ledger")
    assert ledger_mismatches() == []


def test_full_return_restocks_and_reverses_exactly_what_was_earned():
    shop = make_shop(units=5)
    member = make_member()
    sku_a, sku_b = shop.skus
    number = _sell(
        shop,
        lines=[(sku_a, 2, "50.00"), (sku_b, 1, "30.50")],
        member={"card": member.card_number},
    )

    result = _return(
        shop,
        receipt_number=number,
        lines=[
            {"sku": sku_a.code, "quantity": 2, "amount": "100.00", "line_no": 1},
            {"sku": sku_b.code, "quantity": 1, "amount": "30.50"},
        ],
    )

    till_return = TillReturn.objects.get(pk=result.return_id)
    assert (till_return.points_reversed, till_return.points_restored) == (130, 0)
    assert till_return.member_id == member.pk
    member.refresh_from_db()
    assert member.points_available == 0
    assert level_of(shop.store, sku_a).on_hand == 5
    assert StockMovement.objects.filter(kind=MovementKind.RETURN).count() == 2
    amounts = sorted(MemberPurchase.objects.filter(member=member).values_list("amount", flat=True))
    assert amounts == [Decimal("-130.50"), Decimal("130.50")]
    assert list(ReceiptLine.objects.values_list("quantity_returned", flat=True)) == [2, 1]
    _ledgers_ok()


def test_returns_one_unit_at_a_time_add_up_to_exactly_what_was_earned():
    shop = make_shop(units=10)
    member = make_member()
    (sku, _) = shop.skus
    number = _sell(shop, lines=[(sku, 7, "1.43")], member={"card": member.card_number})
    member.refresh_from_db()
    earned = member.points_available
    assert earned == 10

    reversed_points = [
        _return(
            shop,
            receipt_number=number,
            lines=[{"sku": sku.code, "quantity": 1, "amount": "1.43"}],
        )
        for _ in range(7)
    ]

    total = sum(TillReturn.objects.get(pk=r.return_id).points_reversed for r in reversed_points)
    assert total == earned
    member.refresh_from_db()
    assert member.points_available == 0
    with pytest.raises(ReturnExceedsSaleError):
        _return(
            shop, receipt_number=number, lines=[{"sku": sku.code, "quantity": 1, "amount": "0"}]
        )
    _ledgers_ok()


def test_return_restores_the_share_of_points_paid():
    shop = make_shop()
    member = make_member(points_available=4000)
    sku = shop.skus[0]
    number = _sell(
        shop,
        lines=[(sku, 2, "50.00")],
        member={"card": member.card_number},
        payments=[
            {"method": "points", "amount": "40.00", "points": 4000},
            {"method": "cash", "amount": "60.00"},
        ],
    )
    member.refresh_from_db()
    assert member.points_available == 60  # 4000 spent, 60 earned on the money part

    result = _return(
        shop,
        receipt_number=number,
        lines=[{"sku": sku.code, "quantity": 1, "amount": "50.00", "line_no": 1}],
    )

    till_return = TillReturn.objects.get(pk=result.return_id)
    assert (till_return.points_reversed, till_return.points_restored) == (30, 2000)
    member.refresh_from_db()
    assert member.points_available == 60 - 30 + 2000
    _ledgers_ok()


def test_return_flags_a_shortfall_when_the_earned_points_were_spent():
    shop = make_shop()
    member = make_member()
    sku = shop.skus[0]
    number = _sell(shop, lines=[(sku, 1, "100.00")], member={"card": member.card_number})
    points_services.spend_points(
        member_id=member.pk, points=80, source_key="test:spent", document="x", actor=ACTOR
    )

    result = _return(
        shop,
        receipt_number=number,
        lines=[{"sku": sku.code, "quantity": 1, "amount": "100.00"}],
    )

    assert result.flags == ("points_shortfall",)
    assert TillReturn.objects.get(pk=result.return_id).points_reversed == 20
    member.refresh_from_db()
    assert member.points_available == 0
    _ledgers_ok()


def test_return_replays_and_refuses_another_payload_under_the_same_number():
    shop = make_shop()
    sku = shop.skus[0]
    number = _sell(shop, lines=[(sku, 2, "10.00")])
    lines = [{"sku": sku.code, "quantity": 1, "amount": "10.00"}]
    first = _return(shop, number="T-1", receipt_number=number, lines=lines)

    again = _return(shop, number="T-1", receipt_number=number, lines=lines)

    assert (again.created, again.return_id) == (False, first.return_id)
    assert StockMovement.objects.filter(kind=MovementKind.RETURN).count() == 1
    with pytest.raises(ReturnConflictError):
        _return(
            shop,
            number="T-1",
            receipt_number=number,
            lines=[{"sku": sku.code, "quantity": 2, "amount": "20.00"}],
        )


def test_return_recorded_before_reason_was_fingerprinted_replays_only_with_the_same_reason():
    shop = make_shop()
    sku = shop.skus[0]
    number = _sell(shop, lines=[(sku, 2, "10.00")])
    body = return_body(
        shop,
        number="T-1",
        receipt_number=number,
        authorised_by="Li Na",
        reason="wrong size",
        lines=[{"sku": sku.code, "quantity": 1, "amount": "10.00"}],
    )
    first = returns.record_till_return(
        till_return=return_of(body), store_id=shop.store.pk, actor=ACTOR
    )
    # As stored by the code before the fix: a digest without who and why.
    TillReturn.objects.update(payload_hash=return_of(body).payload_hash_v1())

    again = returns.record_till_return(
        till_return=return_of(body), store_id=shop.store.pk, actor=ACTOR
    )

    assert (again.created, again.return_id) == (False, first.return_id)
    for field, value in (("reason", "changed her mind"), ("authorised_by", "Zhang Wei")):
        with pytest.raises(ReturnConflictError):
            returns.record_till_return(
                till_return=return_of({**body, field: value}), store_id=shop.store.pk, actor=ACTOR
            )
    assert StockMovement.objects.filter(kind=MovementKind.RETURN).count() == 1


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ({"quantity": 3, "amount": "10.00"}, ReturnExceedsSaleError),
        ({"quantity": 1, "amount": "25.00"}, ReturnExceedsSaleError),
        ({"quantity": 1, "amount": "10.00", "line_no": 2}, ReturnLineError),
        ({"quantity": 1, "amount": "10.00", "sku": "other"}, ReturnLineError),
    ],
)
def test_return_refuses_lines_that_do_not_fit_the_receipt(line, error):
    shop = make_shop()
    sku, other = shop.skus
    number = _sell(shop, lines=[(sku, 2, "10.00")])
    wanted = {"sku": sku.code, **line}
    if wanted["sku"] == "other":
        wanted["sku"] = other.code

    with pytest.raises(error):
        _return(shop, receipt_number=number, lines=[wanted])

    assert TillReturn.objects.count() == 0
    assert level_of(shop.store, sku).on_hand == 8


def test_return_refuses_an_unknown_receipt():
    shop = make_shop()

    with pytest.raises(UnknownReceiptError):
        _return(
            shop,
            receipt_number="NOPE",
            lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": "1.00"}],
        )


def test_return_without_receipt_restocks_and_records_the_member_without_points():
    shop = make_shop(units=1)
    member = make_member(points_available=10)
    sku = shop.skus[0]

    result = _return(
        shop,
        authorised_by="Store manager Li",
        member={"card": member.card_number},
        lines=[{"sku": sku.code, "quantity": 2, "amount": "20.00"}],
    )

    till_return = TillReturn.objects.get(pk=result.return_id)
    assert till_return.member_id == member.pk
    assert till_return.receipt_id is None
    assert level_of(shop.store, sku).on_hand == 3
    member.refresh_from_db()
    assert member.points_available == 10
    assert not MemberPurchase.objects.filter(member=member).exists()
    _ledgers_ok()


# --- property: any split of a receipt into returns gives back exactly what it took ------


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    quantities=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    prices=st.tuples(
        st.sampled_from(["0.99", "13.37", "49.90"]), st.sampled_from(["7.77", "120.00"])
    ),
    points_paid=st.sampled_from([0, 150, 876]),  # worth at most the smallest total
    order=st.randoms(use_true_random=False),
)
def test_returning_everything_in_any_pieces_reverses_and_restores_exactly(
    quantities, prices, points_paid, order
):
    shop = make_shop(units=10)
    member = make_member(points_available=1000)
    lines = [(shop.skus[i], quantities[i], prices[i]) for i in range(2)]
    payments = (
        [{"method": "points", "amount": f"{points_paid / 100:.2f}", "points": points_paid}]
        if points_paid
        else None
    )
    number = _sell(shop, lines=lines, member={"card": member.card_number}, payments=payments)
    receipt_lines = list(ReceiptLine.objects.filter(receipt__number=number).order_by("line_no"))
    # One piece per unit, returned in any order; the amounts add up to each line's total.
    pieces = []
    for line in receipt_lines:
        unit = (line.line_total / line.quantity).quantize(Decimal("0.01"))
        for k in range(line.quantity):
            last = k == line.quantity - 1
            amount = line.line_total - unit * (line.quantity - 1) if last else unit
            pieces.append((line, amount))
    order.shuffle(pieces)

    results = [
        _return(
            shop,
            receipt_number=number,
            lines=[
                {
                    "sku": line.sku_code,
                    "quantity": 1,
                    "amount": str(amount),
                    "line_no": line.line_no,
                }
            ],
        )
        for line, amount in pieces
    ]

    returns_made = TillReturn.objects.filter(pk__in=[r.return_id for r in results])
    receipt = receipt_lines[0].receipt
    assert sum(r.points_reversed for r in returns_made) == receipt.points_earned
    assert sum(r.points_restored for r in returns_made) == receipt.points_spent
    member.refresh_from_db()
    assert member.points_available == 1000
    _ledgers_ok()


def test_return_keys_cannot_be_a_receipts_even_one_numbered_like_a_return_before():
    # A receipt numbered "return:T1" recorded before such numbers were refused (the schema
    # refuses them now; the service is handed the parsed receipt) has the purchase key
    # pos:<store>:return:T1, which a return T1 had too: the return was 409
    # purchase_conflict.
    shop = make_shop()
    sku = shop.skus[0]
    member = make_member()
    card = {"card": member.card_number}
    old = sale_of(receipt_body(shop, number="R-1", lines=[(sku, 1, "10.00")], member=card))
    sales.record_sale(
        sale=replace(old, number="return:T1"),
        store_id=shop.store.pk,
        source=ReceiptSource.API,
        actor=ACTOR,
    )
    number = _sell(shop, lines=[(sku, 2, "10.00")], member=card)

    result = _return(
        shop,
        number="T1",
        receipt_number=number,
        lines=[{"sku": sku.code, "quantity": 1, "amount": "10.00"}],
    )

    assert result.created
    code = shop.store.code
    assert set(MemberPurchase.objects.values_list("source_key", "amount")) == {
        (f"pos:{code}:return:T1", Decimal("10.00")),
        (f"pos:{code}:{number}", Decimal("20.00")),
        (f"pos-return:{code}:T1", Decimal("-10.00")),
    }
    assert StockMovement.objects.get(kind=MovementKind.RETURN).reference == (
        f"pos-return:{code}:T1"
    )
    assert TillReturn.objects.get().points_reversed == 10
    assert member.points_entries.filter(source_key=f"pos-return:{code}:T1:reverse").exists()
    _ledgers_ok()
