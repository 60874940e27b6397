"""POST /api/v1/pos/sales and GET /api/v1/pos/members: status codes, bodies, store binding."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from omnimall.core import clock
from omnimall.inventory.models import MovementKind, StockMovement
from omnimall.members.models import MemberPurchase, PointsEntry, Tier
from omnimall.members.selectors.points import ledger_mismatches
from omnimall.pos.models import Receipt
from tests.inventory.factories import level_of
from tests.pos.factories import (
    make_member,
    make_shop,
    make_store,
    pos_token,
    receipt_body,
    sale_of,
)

pytestmark = pytest.mark.django_db

SALES = "/api/v1/pos/sales"
MEMBERS = "/api/v1/pos/members"


def post(client, body, token):
    headers = {"HTTP_X_API_KEY": token} if token else {}
    return client.post(SALES, json.dumps(body), content_type="application/json", **headers)


def test_post_sale_answers_201_then_200_with_the_same_body_on_a_replay(client):
    shop = make_shop()
    member = make_member()
    body = receipt_body(shop, member={"card": member.card_number})

    first = post(client, body, shop.token)
    again = post(client, body, shop.token)

    assert first.status_code == 201, first.content
    assert again.status_code == 200
    assert again.json() == first.json()
    data = first.json()
    assert data["receipt_number"] == body["receipt_number"]
    assert data["state"] == "applied"
    assert data["points_earned"] == 100
    assert data["member_card"] == member.card_number
    assert data["lines"][0]["line_total"] == "100.00"
    assert Receipt.objects.count() == 1


def _other_number(body):
    return {**body, "lines": [{**body["lines"][0], "quantity": 2}]}


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("conflict", 409, "receipt_conflict"),
        ("other_store_key", 403, "forbidden_store"),
        ("unbound_key", 403, "forbidden_store"),
        ("wrong_scope", 403, "forbidden"),
        ("no_key", 401, "unauthorized"),
        ("unknown_sku", 422, "unknown_sku"),
        ("unknown_card", 422, "unknown_member"),
        ("bad_phone", 422, "invalid_phone"),
        ("points_without_member", 422, "invalid_points_payment"),
        ("bad_body", 422, "validation_failed"),
    ],
)
def test_post_sale_refuses(client, case, status, code):
    shop = make_shop()
    body = receipt_body(shop)
    token = shop.token
    if case == "conflict":
        assert post(client, body, token).status_code == 201
        body = _other_number(body)
    elif case == "other_store_key":
        token = pos_token(make_store())
    elif case == "unbound_key":
        token = pos_token(None)
    elif case == "wrong_scope":
        token = pos_token(shop.store, scopes=("wms",))
    elif case == "no_key":
        token = ""
    elif case == "unknown_sku":
        body["lines"][0]["sku"] = "NO-SUCH-SKU"
    elif case == "unknown_card":
        body["member"] = {"card": "000000000000"}
    elif case == "bad_phone":
        body["member"] = {"phone": "12"}
    elif case == "points_without_member":
        body["payments"] = [{"method": "points", "amount": "1.00", "points": 100}]
    elif case == "bad_body":
        body["lines"][0]["quantity"] = "1"

    response = post(client, body, token)

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    expected_receipts = 1 if case == "conflict" else 0
    assert Receipt.objects.count() == expected_receipts
    assert StockMovement.objects.filter(kind=MovementKind.SALE).count() == expected_receipts


def test_post_sale_records_a_flagged_receipt_when_stock_is_short(client):
    shop = make_shop(units=0)

    response = post(client, receipt_body(shop), shop.token)

    assert response.status_code == 201
    data = response.json()
    assert data["state"] == "flagged"
    assert data["flags"][0]["code"] == "stock_short"
    assert data["flags"][0]["details"]["lines"][0]["short"] == 1


def test_lookup_member_answers_tier_and_points(client):
    shop = make_shop()
    member = make_member(points_available=250, phone="+8613800138000")

    by_phone = client.get(MEMBERS, {"phone": "138 0013 8000"}, HTTP_X_API_KEY=shop.token)
    by_card = client.get(MEMBERS, {"card": member.card_number}, HTTP_X_API_KEY=shop.token)

    assert by_phone.status_code == 200, by_phone.content
    assert by_phone.json() == by_card.json()
    data = by_phone.json()
    assert data["member"]["card_number"] == member.card_number
    assert data["member"]["phone_masked"] == "+86 138****8000"
    assert data["member"]["tier"]["code"] == member.tier.code
    assert data["points"] == {"available": 250, "pending": 0, "held": 0}


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"phone": "+8613999999999"}, 404, "member_not_found"),
        ({}, 422, "member_query"),
        ({"phone": "+8613800138000", "card": "123"}, 422, "member_query"),
        ({"phone": "abc"}, 422, "invalid_phone"),
    ],
)
def test_lookup_member_refuses(client, params, status, code):
    shop = make_shop()

    response = client.get(MEMBERS, params, HTTP_X_API_KEY=shop.token)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_lookup_member_needs_a_key_bound_to_a_store(client):
    make_member(phone="+8613800138001")

    response = client.get(MEMBERS, {"phone": "+8613800138001"}, HTTP_X_API_KEY=pos_token(None))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden_store"


def test_lookup_sale_and_replay_keep_their_query_counts(client, django_assert_max_num_queries):
    shop = make_shop()
    member = make_member(points_available=100)
    body = receipt_body(
        shop,
        lines=[(shop.skus[0], 1, "10.00"), (shop.skus[1], 1, "5.00")],
        member={"card": member.card_number},
    )

    with django_assert_max_num_queries(5):
        lookup = client.get(MEMBERS, {"card": member.card_number}, HTTP_X_API_KEY=shop.token)
    # A sale: key, store, replay check, SKUs, member, then the writes of both ledgers
    # (a few per line and per points entry) and the answer; no query per line beyond that.
    with django_assert_max_num_queries(55):
        sale = post(client, body, shop.token)
    with django_assert_max_num_queries(7):
        replay = post(client, body, shop.token)

    assert (lookup.status_code, sale.status_code, replay.status_code) == (200, 201, 200)


def _ledgers(shop, member):
    """What a receipt can move: receipts, the store's stock, the member's points and spend."""
    member.refresh_from_db()
    return (
        Receipt.objects.count(),
        StockMovement.objects.filter(kind=MovementKind.SALE).count(),
        level_of(shop.store, shop.skus[0]).on_hand,
        member.points_available,
        MemberPurchase.objects.filter(member=member).count(),
        PointsEntry.objects.filter(member=member).count(),
    )


@pytest.mark.parametrize(
    ("case", "payments", "currency", "code"),
    [
        ("under-paid", [{"method": "cash", "amount": "99.99"}], None, "payments_mismatch"),
        ("over-paid", [{"method": "wechat", "amount": "100.01"}], None, "payments_mismatch"),
        (
            "split, short",
            [{"method": "cash", "amount": "60.00"}, {"method": "card", "amount": "30.00"}],
            None,
            "payments_mismatch",
        ),
        (
            "points and cash, short",
            [
                {"method": "points", "amount": "20.00", "points": 2000},
                {"method": "cash", "amount": "70.00"},
            ],
            None,
            "payments_mismatch",
        ),
        ("no payment", [], None, "payments_mismatch"),
        ("in USD", [{"method": "card", "amount": "100.00"}], "USD", "unsupported_currency"),
        ("in cny", [{"method": "card", "amount": "100.00"}], "cny", "unsupported_currency"),
    ],
)
def test_post_sale_refuses_a_receipt_not_paid_exactly_in_the_shop_currency(
    client, case, payments, currency, code
):
    shop = make_shop()
    member = make_member(points_available=5000)
    body = receipt_body(
        shop, member={"card": member.card_number}, payments=payments, pay_rest=False
    )
    if currency:
        body["currency"] = currency
    before = _ledgers(shop, member)

    response = post(client, body, shop.token)

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert "CNY" in error["message"]
    assert _ledgers(shop, member) == before
    if code == "payments_mismatch":
        assert error["details"]["total"] == "100.00"
        paid = sum((Decimal(p["amount"]) for p in payments), Decimal("0.00"))
        assert error["details"]["paid"] == str(paid)


def test_post_sale_accepts_a_receipt_whose_payments_add_up_to_its_total(client):
    shop = make_shop()
    member = make_member(points_available=5000)
    body = receipt_body(
        shop,
        member={"card": member.card_number},
        payments=[
            {"method": "points", "amount": "20.00", "points": 2000},
            {"method": "wechat", "amount": "50.50"},
            {"method": "cash", "amount": "29.50"},
        ],
        pay_rest=False,
    )
    body["currency"] = "CNY"

    response = post(client, body, shop.token)

    assert response.status_code == 201, response.content
    assert response.json()["points_spent"] == 2000
    assert response.json()["points_earned"] == 80  # on the 80.00 paid in money
    member.refresh_from_db()
    assert member.points_available == 5000 - 2000 + 80


@pytest.mark.parametrize(
    ("unit_price", "quantity", "discount", "accepted"),
    [
        ("10000000.00", 1, "0", True),
        ("2500000.00", 4, "1.00", True),
        ("10000000.01", 1, "0", False),
        ("10000000.01", 1, "1.00", False),  # the bound is before discounts
        ("9999999999.99", 1, "0", False),  # the largest price: 10 billion points
        ("99999999.99", 10000, "0", False),  # a total the ledgers cannot hold
    ],
)
def test_post_sale_bounds_a_receipt_at_ten_million(
    client, unit_price, quantity, discount, accepted
):
    shop = make_shop(units=10)
    member = make_member()
    body = receipt_body(
        shop, lines=[(shop.skus[0], quantity, unit_price)], member={"card": member.card_number}
    )
    body["lines"][0]["discount"] = discount
    total = Decimal(unit_price) * quantity - Decimal(discount)
    paid = min(total, Decimal("9999999999.99"))  # the largest amount a payment can carry
    body["payments"] = [{"method": "card", "amount": str(paid)}]
    before = _ledgers(shop, member)

    response = post(client, body, shop.token)

    member.refresh_from_db()
    if accepted:
        assert response.status_code == 201, response.content
        assert response.json()["points_earned"] == int(total)
        assert member.points_available == int(total)
    else:
        assert response.status_code == 422, response.content
        assert "at most 10000000.00" in str(response.json()["error"]["details"])
        assert _ledgers(shop, member) == before
    assert ledger_mismatches() == []


@pytest.mark.parametrize(
    "occurred_at",
    [
        "9999-12-31T23:59:59-08:00",  # past year 9999 in UTC: was a 500
        "0001-01-01T00:00:00+08:00",  # before year 1 in UTC: was a 500
        "2099-01-01T00:00:00+08:00",  # counted toward the 12-month spend until 2100
        "1999-12-31T23:59:59+00:00",
        "in two days",
        "an hour ago as a number",  # a Unix time was read as the time (found by fuzzing)
    ],
)
def test_post_sale_refuses_a_time_no_till_can_have(client, occurred_at):
    shop = make_shop()
    member = make_member()
    body = receipt_body(shop, member={"card": member.card_number})
    if occurred_at == "in two days":
        occurred_at = (clock.now() + timedelta(days=2)).isoformat()
    if occurred_at == "an hour ago as a number":
        occurred_at = int((clock.now() - timedelta(hours=1)).timestamp())
    body["occurred_at"] = occurred_at
    before = _ledgers(shop, member)

    response = post(client, body, shop.token)

    assert response.status_code == 422, response.content
    (error,) = response.json()["error"]["details"]["errors"]
    assert error["loc"][-1] == "occurred_at"
    assert _ledgers(shop, member) == before


def test_post_sale_accepts_a_till_clock_a_few_hours_fast(client):
    shop = make_shop()
    body = receipt_body(shop)
    body["occurred_at"] = (clock.now() + timedelta(hours=6)).isoformat()

    response = post(client, body, shop.token)

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("member", [{"card": "   "}, {"phone": " ", "card": ""}])
def test_post_sale_refuses_a_blank_member_instead_of_recording_no_member(client, member):
    shop = make_shop()

    response = post(client, receipt_body(shop, member=member), shop.token)

    assert response.status_code == 422, response.content
    (error,) = response.json()["error"]["details"]["errors"]
    assert "member" in error["loc"]
    assert not Receipt.objects.exists()


@pytest.mark.parametrize(
    "rewrite",
    [
        {"unit_price": 100},  # a JSON number for "100.00"
        {"unit_price": "100.0", "discount": "0"},  # a discount of 0 for none
        {"occurred_at": "+08:00"},  # the same instant at another offset
    ],
)
def test_post_sale_replays_a_retry_written_another_way(client, rewrite):
    shop = make_shop()
    member = make_member()
    body = receipt_body(shop, member={"card": member.card_number})
    first = post(client, body, shop.token)
    retry = json.loads(json.dumps(body))
    for field, value in rewrite.items():
        if field == "occurred_at":
            at = datetime.fromisoformat(body["occurred_at"])
            retry["occurred_at"] = at.astimezone(timezone(timedelta(hours=8))).isoformat()
        else:
            retry["lines"][0][field] = value
    retry["payments"] = [{"method": "cash", "amount": 100}]
    before = _ledgers(shop, member)

    again = post(client, retry, shop.token)

    assert first.status_code == 201, first.content
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert _ledgers(shop, member) == before


def test_post_sale_replays_a_receipt_recorded_before_its_fingerprint_was_normalised(client):
    shop = make_shop()
    body = receipt_body(shop, lines=[(shop.skus[0], 1, "100")])
    body["payments"] = [{"method": "cash", "amount": 100}]
    assert post(client, body, shop.token).status_code == 201
    # As the code before stored it: the digest of the body as the till wrote it.
    Receipt.objects.update(payload_hash=sale_of(body).payload_hash_v1())

    again = post(client, body, shop.token)
    changed = post(client, {**body, "currency": "HKD"}, shop.token)

    assert again.status_code == 200, again.content
    assert changed.status_code == 409
    assert Receipt.objects.count() == 1


def test_post_sale_refuses_a_receipt_number_a_till_returns_keys_begin_with(client):
    shop = make_shop()
    member = make_member()

    response = post(
        client,
        receipt_body(shop, number="return:T1", member={"card": member.card_number}),
        shop.token,
    )

    assert response.status_code == 422, response.content
    (error,) = response.json()["error"]["details"]["errors"]
    assert error["loc"][-1] == "receipt_number"
    assert "return:" in error["msg"]
    assert not Receipt.objects.exists()
    assert not MemberPurchase.objects.exists()


@pytest.mark.parametrize("number", [" ", "   ", "\t", " \u3000 "])
def test_post_sale_refuses_a_receipt_number_of_only_spaces(client, number):
    shop = make_shop()

    response = post(client, receipt_body(shop, number=number), shop.token)

    assert response.status_code == 422, response.content
    (error,) = response.json()["error"]["details"]["errors"]
    assert error["loc"][-1] == "receipt_number"
    assert "only spaces" in error["msg"]
    assert not Receipt.objects.exists()


@pytest.mark.parametrize("method", [" ", "   ", "\t", " \u3000 "])
def test_post_sale_refuses_a_payment_method_of_only_spaces(client, method):
    shop = make_shop()
    body = receipt_body(shop, payments=[{"method": method, "amount": "100.00"}])

    response = post(client, body, shop.token)

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    (problem,) = error["details"]["errors"]
    assert [str(step) for step in problem["loc"][-3:]] == ["payments", "0", "method"]
    assert "only spaces" in problem["msg"]
    assert not Receipt.objects.exists()
    assert level_of(shop.store, shop.skus[0]).on_hand == 10


@pytest.mark.parametrize(
    ("method", "code"),
    [
        (" cash ", "cash"),
        ("CASH", "cash"),
        ("现金", "cash"),
        ("WeChat", "wechat"),
        ("银联", "card"),
    ],
)
def test_post_sale_stores_a_payment_method_as_its_code(client, method, code):
    shop = make_shop()
    body = receipt_body(shop, payments=[{"method": method, "amount": "100.00"}])

    response = post(client, body, shop.token)

    assert response.status_code == 201, response.content
    assert Receipt.objects.get().payments == [{"method": code, "amount": "100.00"}]


@pytest.mark.parametrize("method", ["voucher", "cash!", "现金券", "Apple Pay"])
def test_post_sale_refuses_an_unknown_payment_method_naming_the_field(client, method):
    shop = make_shop()
    body = receipt_body(
        shop,
        payments=[{"method": "cash", "amount": "50.00"}, {"method": method, "amount": "50.00"}],
    )

    response = post(client, body, shop.token)

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    (problem,) = error["details"]["errors"]
    assert [str(step) for step in problem["loc"][-3:]] == ["payments", "1", "method"]
    assert f"unknown payment method '{method}'" in problem["msg"]
    assert "cash, card, wechat, alipay" in problem["msg"]
    assert not Receipt.objects.exists()
    assert level_of(shop.store, shop.skus[0]).on_hand == 10


def test_post_sale_replays_a_receipt_sent_again_with_its_payment_method_spelt_otherwise(client):
    shop = make_shop()
    body = receipt_body(shop, payments=[{"method": "Cash", "amount": "100.00"}])
    first = post(client, body, shop.token)

    spellings = [
        post(client, {**body, "payments": [{"method": method, "amount": "100.00"}]}, shop.token)
        for method in (" cash ", "现金", "CASH")
    ]
    paid_otherwise = post(
        client, {**body, "payments": [{"method": "银联", "amount": "100.00"}]}, shop.token
    )

    assert first.status_code == 201, first.content
    assert [r.status_code for r in spellings] == [200, 200, 200]
    assert all(r.json() == first.json() for r in spellings)
    assert paid_otherwise.status_code == 409
    assert paid_otherwise.json()["error"]["code"] == "receipt_conflict"
    assert Receipt.objects.count() == 1
    assert level_of(shop.store, shop.skus[0]).on_hand == 9


def test_post_sale_refuses_points_one_ledger_entry_cannot_hold(client):
    # A tier rate set before the settings were bounded (at most 10 per CNY now): a
    # ¥1,000,000 receipt would earn ten billion points (a 500 on PostgreSQL).
    shop = make_shop()
    member = make_member()
    Tier.objects.filter(pk=member.tier_id).update(points_per_cny=Decimal("9999.99"))
    body = receipt_body(
        shop, lines=[(shop.skus[0], 1, "1000000.00")], member={"card": member.card_number}
    )
    before = _ledgers(shop, member)

    response = post(client, body, shop.token)

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_points"
    assert "at most 1,000,000,000 points" in error["message"]
    assert _ledgers(shop, member) == before
    assert ledger_mismatches() == []
