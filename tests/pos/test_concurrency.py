"""Race tests for the live POS API: many tills (or one till retrying) at once.

Each thread posts through the HTTP API on its own connection (``tests.races``); on SQLite
the ``race_database`` fixture puts the test database on a file so writers queue. After
each race both ledgers are checked: stock (``check_stock_ledger``) and points
(``ledger_mismatches``).
"""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client

from omnimall.inventory.models import MovementKind, StockMovement
from omnimall.members.models import Member, MemberPurchase, PointsEntry, PointsEntryKind
from omnimall.members.selectors.points import ledger_mismatches
from omnimall.pos.models import Receipt, ReceiptState, TillReturn
from tests.inventory.factories import level_of
from tests.pos.factories import make_member, make_shop, receipt_body
from tests.races import run_together

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _post(body: dict[str, object], token: str) -> tuple[int, dict[str, object]]:
    response = Client().post(
        "/api/v1/pos/sales",
        json.dumps(body),
        content_type="application/json",
        HTTP_X_API_KEY=token,
    )
    return response.status_code, response.json()


def test_the_same_receipt_posted_20_times_at_once_is_applied_once(race_database):
    shop = make_shop(units=10)
    member = make_member(points_available=5000)
    sku_a, sku_b = shop.skus
    body = receipt_body(
        shop,
        lines=[(sku_a, 2, "50.00"), (sku_b, 1, "30.00")],
        member={"card": member.card_number},
        payments=[
            {"method": "points", "amount": "30.00", "points": 3000},
            {"method": "card", "amount": "100.00"},
        ],
    )

    answers = run_together(20, lambda _i: _post(body, shop.token))

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 19 + [201], answers
    assert len({json.dumps(data, sort_keys=True) for _, data in answers}) == 1
    assert Receipt.objects.count() == 1
    receipt = Receipt.objects.get()
    assert StockMovement.objects.filter(kind=MovementKind.SALE).count() == 2
    assert (
        PointsEntry.objects.filter(kind=PointsEntryKind.EARN, document=receipt.number).count() == 1
    )
    assert PointsEntry.objects.filter(kind=PointsEntryKind.SPEND).count() == 1
    assert MemberPurchase.objects.filter(member=member).count() == 1
    assert (level_of(shop.store, sku_a).on_hand, level_of(shop.store, sku_b).on_hand) == (8, 9)
    member.refresh_from_db()
    # Earned on the money part only, line by line, rounded down: 76 + 23.
    assert receipt.points_earned == 99
    assert member.points_available == 5000 - 3000 + 99
    call_command("check_stock_ledger")
    assert ledger_mismatches() == []


def test_tills_selling_the_last_units_in_opposite_orders_never_oversell(race_database):
    shop = make_shop(units=10)
    sku_a, sku_b = shop.skus
    phone = "+8613700001234"  # a new shopper, enrolled by whichever receipt comes first

    def sell(i: int) -> tuple[int, dict[str, object]]:
        pair = [(sku_a, 1, "10.00"), (sku_b, 1, "20.00")]
        body = receipt_body(
            shop,
            number=f"RACE-{i}",
            lines=pair if i % 2 else pair[::-1],
            member={"phone": phone},
        )
        return _post(body, shop.token)

    answers = run_together(16, sell)

    assert [status for status, _ in answers] == [201] * 16, answers
    assert (level_of(shop.store, sku_a).on_hand, level_of(shop.store, sku_b).on_hand) == (0, 0)
    assert Receipt.objects.filter(state=ReceiptState.FLAGGED).count() == 6
    sold = StockMovement.objects.filter(kind=MovementKind.SALE)
    assert sum(m.quantity for m in sold) == -20
    member = Member.objects.get(phone=phone)
    assert Receipt.objects.filter(member=member).count() == 16
    member.refresh_from_db()
    assert member.points_available == 16 * 30
    call_command("check_stock_ledger")
    assert ledger_mismatches() == []


def test_tills_returning_the_same_receipt_at_once_return_each_unit_once(race_database):
    shop = make_shop(units=10)
    member = make_member()
    sku = shop.skus[0]
    body = receipt_body(shop, lines=[(sku, 5, "19.99")], member={"card": member.card_number})
    assert _post(body, shop.token)[0] == 201
    earned = Receipt.objects.get().points_earned

    def give_back(i: int) -> int:
        response = Client().post(
            "/api/v1/pos/returns",
            json.dumps(
                {
                    "store": shop.store.code,
                    "return_number": f"T-{i}",
                    "occurred_at": body["occurred_at"],
                    "receipt_number": body["receipt_number"],
                    "lines": [{"sku": sku.code, "quantity": 1, "amount": "19.99"}],
                }
            ),
            content_type="application/json",
            HTTP_X_API_KEY=shop.token,
        )
        return response.status_code

    statuses = run_together(12, give_back)

    assert sorted(statuses) == [201] * 5 + [422] * 7
    assert level_of(shop.store, sku).on_hand == 10
    returned = StockMovement.objects.filter(kind=MovementKind.RETURN)
    assert sum(m.quantity for m in returned) == 5
    reversed_points = sum(TillReturn.objects.values_list("points_reversed", flat=True))
    assert reversed_points == earned == 99
    member.refresh_from_db()
    assert member.points_available == 0
    call_command("check_stock_ledger")
    assert ledger_mismatches() == []
