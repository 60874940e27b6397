"""POST /api/v1/pos/sales/batch: many receipts of the key's store, one result each."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from omnimall.members.models import Tier
from omnimall.pos.models import Receipt
from tests.inventory.factories import level_of
from tests.pos.factories import make_member, make_shop, pos_token, receipt_body, sale_of

pytestmark = pytest.mark.django_db
BATCH = "/api/v1/pos/sales/batch"
SALES = "/api/v1/pos/sales"


def _post(client, token, receipts, path=BATCH):
    body = {"receipts": receipts} if path == BATCH else receipts
    return client.post(
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_X_API_KEY=token,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_batch_answers_one_result_per_receipt_and_a_bad_one_stops_nothing(client):
    shop = make_shop(units=5)
    member = make_member()
    good = receipt_body(shop, number="B1", member={"card": member.card_number})
    invalid = {**receipt_body(shop, number="B2"), "lines": []}
    unknown_sku = {
        **receipt_body(shop, number="B3"),
        "lines": [{"sku": "NOPE", "quantity": 1, "unit_price": "1.00"}],
    }
    short = receipt_body(shop, number="B4", lines=[(shop.skus[1], 9, "1.00")])

    reply = _post(client, shop.token, [good, invalid, unknown_sku, short, good])

    assert reply.status_code == 200
    body = reply.json()
    assert [(r["receipt_number"], r["status"]) for r in body["results"]] == [
        ("B1", "created"),
        ("B2", "rejected"),
        ("B3", "rejected"),
        ("B4", "flagged"),
        ("B1", "replayed"),
    ]
    assert body["results"][1]["code"] == "invalid_receipt"
    assert "lines" in body["results"][1]["message"]
    assert body["results"][2]["code"] == "unknown_sku"
    assert body["results"][3]["code"] == "stock_short"
    assert body["counts"] == {
        "created": 1,
        "replayed": 1,
        "flagged": 1,
        "rejected": 2,
        "total": 5,
    }
    assert level_of(shop.store, shop.skus[0]).on_hand == 4
    member.refresh_from_db()
    assert member.points_available == 100


def test_batch_of_another_stores_receipts_is_refused_whole(client):
    shop, other = make_shop(), make_shop()
    mine = receipt_body(shop, number="X1")
    theirs = receipt_body(other, number="X2")

    reply = _post(client, shop.token, [mine, theirs])

    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "forbidden_store"
    assert not Receipt.objects.exists()


def test_batch_needs_a_key_bound_to_a_store(client):
    shop = make_shop()

    unbound = _post(client, pos_token(None), [receipt_body(shop)])
    no_key = client.post(BATCH, json.dumps({"receipts": []}), content_type="application/json")

    assert unbound.status_code == 403
    assert unbound.json()["error"]["code"] == "forbidden_store"
    assert no_key.status_code == 401


def test_batch_and_the_live_api_agree_on_a_receipt(client):
    shop = make_shop(units=5)
    first = receipt_body(shop, number="L1")
    changed = receipt_body(shop, number="L1", lines=[(shop.skus[0], 2, "1.00")])

    live = _post(client, shop.token, first, path=SALES)
    replay = _post(client, shop.token, [first, changed])

    assert live.status_code == 201
    assert [r["status"] for r in replay.json()["results"]] == ["replayed", "rejected"]
    assert replay.json()["results"][1]["code"] == "receipt_conflict"


def test_batch_refuses_more_than_1000_receipts(client):
    shop = make_shop()

    reply = _post(client, shop.token, [receipt_body(shop)] * 1001)

    assert reply.status_code == 422


def test_batch_rejects_receipts_not_paid_exactly_in_the_shop_currency(client):
    shop = make_shop(units=5)
    member = make_member()
    card = {"card": member.card_number}
    under = receipt_body(shop, number="P1", member=card)
    under["payments"] = [{"method": "cash", "amount": "90.00"}]
    over = receipt_body(shop, number="P2", member=card)
    over["payments"] = [{"method": "cash", "amount": "100.00"}, {"method": "card", "amount": "5"}]
    dollars = {**receipt_body(shop, number="P3", member=card), "currency": "USD"}
    exact = receipt_body(shop, number="P4", member=card)

    reply = _post(client, shop.token, [under, over, dollars, exact])

    assert reply.status_code == 200
    results = reply.json()["results"]
    assert [(r["receipt_number"], r["status"], r.get("code")) for r in results] == [
        ("P1", "rejected", "payments_mismatch"),
        ("P2", "rejected", "payments_mismatch"),
        ("P3", "rejected", "unsupported_currency"),
        ("P4", "created", None),
    ]
    assert "90.00 CNY" in results[0]["message"]
    assert "105.00 CNY" in results[1]["message"]
    assert "USD" in results[2]["message"]
    assert list(Receipt.objects.values_list("number", flat=True)) == ["P4"]
    assert level_of(shop.store, shop.skus[0]).on_hand == 4
    member.refresh_from_db()
    assert (member.points_available, member.rolling_spend) == (100, Decimal("100.00"))


def test_batch_rejects_a_receipt_above_ten_million_and_applies_the_others(client):
    shop = make_shop(units=5)
    member = make_member()
    huge = receipt_body(
        shop,
        number="H1",
        lines=[(shop.skus[0], 1, "9999999999.99")],
        member={"card": member.card_number},
    )
    fine = receipt_body(shop, number="H2", member={"card": member.card_number})

    reply = _post(client, shop.token, [huge, fine])

    assert reply.status_code == 200
    results = reply.json()["results"]
    assert [(r["receipt_number"], r["status"]) for r in results] == [
        ("H1", "rejected"),
        ("H2", "created"),
    ]
    assert results[0]["code"] == "invalid_receipt"
    assert "at most 10000000.00" in results[0]["message"]
    member.refresh_from_db()
    assert (member.points_available, member.rolling_spend) == (100, Decimal("100.00"))


def test_batch_rejects_a_receipt_dated_where_no_till_can_be_and_applies_the_others(client):
    shop = make_shop(units=5)
    far = {**receipt_body(shop, number="D1"), "occurred_at": "9999-12-31T23:59:59-08:00"}
    future = {**receipt_body(shop, number="D2"), "occurred_at": "2099-01-01T00:00:00+08:00"}
    fine = receipt_body(shop, number="D3")

    reply = _post(client, shop.token, [far, future, fine])

    assert reply.status_code == 200
    results = reply.json()["results"]
    assert [(r["receipt_number"], r["status"], r.get("code")) for r in results] == [
        ("D1", "rejected", "invalid_receipt"),
        ("D2", "rejected", "invalid_receipt"),
        ("D3", "created", None),
    ]
    assert "occurred_at" in results[1]["message"]
    assert list(Receipt.objects.values_list("number", flat=True)) == ["D3"]


def test_batch_replays_receipts_posted_live_and_written_another_way(client):
    # The till posted live; the end-of-day exporter writes numbers and UTC times.
    shop = make_shop(units=5)
    member = make_member()
    live = receipt_body(shop, number="E1", member={"card": member.card_number})
    live["occurred_at"] = "2026-11-27T18:30:00+08:00"
    recorded_before = receipt_body(shop, number="E2", lines=[(shop.skus[1], 1, "5")])
    exported = {
        **live,
        "occurred_at": "2026-11-27T10:30:00Z",
        "lines": [{**live["lines"][0], "unit_price": 100, "discount": "0"}],
        "payments": [{"method": "cash", "amount": 100}],
    }
    assert _post(client, shop.token, live, path=SALES).status_code == 201
    assert _post(client, shop.token, recorded_before, path=SALES).status_code == 201
    # E2 as the code before stored it: the digest of the body as written.
    Receipt.objects.filter(number="E2").update(
        payload_hash=sale_of(recorded_before).payload_hash_v1()
    )

    reply = _post(client, shop.token, [exported, recorded_before])

    assert [r["status"] for r in reply.json()["results"]] == ["replayed", "replayed"]
    assert Receipt.objects.count() == 2
    assert level_of(shop.store, shop.skus[0]).on_hand == 4


def test_batch_rejects_a_receipt_numbered_like_a_return_and_applies_the_others(client):
    shop = make_shop(units=5)

    reply = _post(
        client,
        shop.token,
        [receipt_body(shop, number="return:T1"), receipt_body(shop, number="K1")],
    )

    results = reply.json()["results"]
    assert [(r["receipt_number"], r["status"]) for r in results] == [
        ("return:T1", "rejected"),
        ("K1", "created"),
    ]
    assert results[0]["code"] == "invalid_receipt"
    assert "return:" in results[0]["message"]
    assert list(Receipt.objects.values_list("number", flat=True)) == ["K1"]


def test_batch_rejects_a_receipt_paid_by_a_method_of_only_spaces_and_applies_the_others(client):
    shop = make_shop(units=5)
    blank = receipt_body(shop, number="M1", payments=[{"method": "   ", "amount": "100.00"}])

    reply = _post(client, shop.token, [blank, receipt_body(shop, number="M2")])

    assert reply.status_code == 200, reply.content
    results = reply.json()["results"]
    assert [(r["receipt_number"], r["status"]) for r in results] == [
        ("M1", "rejected"),
        ("M2", "created"),
    ]
    assert results[0]["code"] == "invalid_receipt"
    assert results[0]["message"].startswith("payments.0.method: only spaces")
    assert list(Receipt.objects.values_list("number", flat=True)) == ["M2"]
    assert level_of(shop.store, shop.skus[0]).on_hand == 4


@pytest.mark.parametrize("entry", [["R1"], "R1", 7, None, True])
def test_batch_rejects_an_entry_that_is_not_a_json_object_in_its_place(client, entry):
    shop = make_shop(units=5)

    reply = _post(client, shop.token, [receipt_body(shop, number="J1"), entry])

    assert reply.status_code == 200, reply.content
    results = reply.json()["results"]
    assert [(r["receipt_number"], r["status"]) for r in results] == [
        ("J1", "created"),
        ("", "rejected"),
    ]
    assert results[1]["code"] == "invalid_receipt"
    assert results[1]["message"].startswith("receipt 2 is not a JSON object")
    assert reply.json()["counts"]["rejected"] == 1
    assert list(Receipt.objects.values_list("number", flat=True)) == ["J1"]


def test_batch_rejects_a_receipt_earning_more_than_one_ledger_entry_holds(client):
    shop = make_shop(units=5)
    member = make_member()
    Tier.objects.filter(pk=member.tier_id).update(points_per_cny=Decimal("9999.99"))
    card = {"card": member.card_number}
    huge = receipt_body(shop, number="H1", lines=[(shop.skus[0], 1, "1000000.00")], member=card)
    fine = receipt_body(shop, number="H2", lines=[(shop.skus[1], 1, "1.00")], member=card)

    reply = _post(client, shop.token, [huge, fine])

    results = reply.json()["results"]
    assert [(r["receipt_number"], r["status"]) for r in results] == [
        ("H1", "rejected"),
        ("H2", "created"),
    ]
    assert results[0]["code"] == "invalid_points"
    member.refresh_from_db()
    assert member.points_available == 9999  # H2: 1.00 at 9,999.99 points per CNY
    assert list(Receipt.objects.values_list("number", flat=True)) == ["H2"]


def test_batch_reads_payment_methods_as_codes_and_rejects_an_unknown_one(client):
    shop = make_shop(units=5)
    first = receipt_body(shop, number="P1", payments=[{"method": "Alipay", "amount": "100.00"}])
    respelt = {**first, "payments": [{"method": "支付宝", "amount": "100.00"}]}
    unknown = receipt_body(shop, number="P2", payments=[{"method": "IOU", "amount": "100.00"}])

    reply = _post(client, shop.token, [first, respelt, unknown])

    results = reply.json()["results"]
    assert [(r["receipt_number"], r["status"]) for r in results] == [
        ("P1", "created"),
        ("P1", "replayed"),
        ("P2", "rejected"),
    ]
    assert results[2]["code"] == "invalid_receipt"
    assert results[2]["message"].startswith("payments.0.method: unknown payment method 'IOU'")
    assert Receipt.objects.get().payments == [{"method": "alipay", "amount": "100.00"}]
    assert level_of(shop.store, shop.skus[0]).on_hand == 4
