"""pos 0002: the receipts' stored payment methods become codes, and a receipt recorded
before still replays when its till sends it again; pos 0004: earlier till returns get the
way their refund was paid out where their receipt says it."""

from __future__ import annotations

import copy
import importlib
import json

import pytest
from django.apps import apps

from omnimall.pos.models import Receipt, TillReturn
from tests.pos.factories import make_member, make_shop, receipt_body, return_body, sale_of

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("omnimall.pos.migrations.0002_payment_method_codes")
SALES = "/api/v1/pos/sales"
BATCH = "/api/v1/pos/sales/batch"


def _post(client, path, body, token):
    return client.post(
        path, json.dumps(body), content_type="application/json", HTTP_X_API_KEY=token
    )


def _paid(body, *methods_and_amounts):
    return {
        **body,
        "payments": [
            {"method": method, "amount": amount} for method, amount in methods_and_amounts
        ],
    }


def _recorded_before(client, shop, body, *, v1=False):
    """Record ``body`` as the code before payment methods were codes did: its methods
    stored as written and its digest taken over them; then run the migration."""
    coded = _paid(body, *(("cash", p["amount"]) for p in body["payments"]))
    assert _post(client, SALES, coded, shop.token).status_code == 201
    written = [p["method"] for p in body["payments"]]
    now, then = sale_of(coded).payload_hashes_as_written(written)
    Receipt.objects.filter(number=body["receipt_number"]).update(
        payments=copy.deepcopy(body["payments"]), payload_hash=then if v1 else now
    )
    MIGRATION.to_codes(apps, None)
    return Receipt.objects.get(number=body["receipt_number"])


def test_migration_turns_stored_methods_into_codes_keeping_what_the_till_wrote(db):
    shop = make_shop()
    stored = [
        {"method": " Cash ", "amount": "10.00"},
        {"method": "微信", "amount": "20.00"},
        {"method": "Voucher", "amount": "30.00"},
        {"method": "card", "amount": "35.00"},
        {"method": "Points", "amount": "5.00", "points": 500},
    ]
    sale = sale_of(receipt_body(shop, number="OLD1"))
    receipt = Receipt.objects.create(
        store=shop.store,
        number="OLD1",
        occurred_at=sale.occurred_at,
        total=sale.total,
        payments=copy.deepcopy(stored),
        source="api",
        payload_hash="x" * 64,
    )

    MIGRATION.to_codes(apps, None)
    receipt.refresh_from_db()
    coded = receipt.payments
    MIGRATION.to_codes(apps, None)  # again: nothing more changes
    receipt.refresh_from_db()
    again = receipt.payments
    MIGRATION.to_written(apps, None)
    receipt.refresh_from_db()

    assert coded == [
        {"method": "cash", "amount": "10.00", "method_as_written": " Cash "},
        {"method": "wechat", "amount": "20.00", "method_as_written": "微信"},
        {"method": "other", "amount": "30.00", "method_as_written": "Voucher"},
        {"method": "card", "amount": "35.00"},
        {"method": "points", "amount": "5.00", "points": 500, "method_as_written": "Points"},
    ]
    assert again == coded
    assert receipt.payments == stored


@pytest.mark.parametrize("v1", [False, True], ids=["normalised digest", "digest as written"])
def test_a_receipt_recorded_before_methods_were_codes_replays_however_its_method_is_spelt(
    client, v1
):
    shop = make_shop()
    body = _paid(receipt_body(shop, number="OLD2"), (" Cash ", "60.00"), ("微信", "40.00"))
    receipt = _recorded_before(client, shop, body, v1=v1)

    as_first = _post(client, SALES, body, shop.token)
    spelt_otherwise = _post(
        client, SALES, _paid(body, ("现金", "60.00"), ("WeChat Pay", "40.00")), shop.token
    )
    paid_otherwise = _post(
        client, SALES, _paid(body, ("cash", "60.00"), ("alipay", "40.00")), shop.token
    )

    assert [p["method"] for p in receipt.payments] == ["cash", "wechat"]
    assert as_first.status_code == 200, as_first.content
    assert spelt_otherwise.status_code == 200, spelt_otherwise.content
    assert paid_otherwise.status_code == 409
    assert Receipt.objects.count() == 1


def test_a_receipt_recorded_before_with_an_unknown_method_replays_as_other(client):
    shop = make_shop()
    body = _paid(receipt_body(shop, number="OLD3"), ("Voucher", "100.00"))
    _recorded_before(client, shop, body)

    as_first = _post(client, SALES, body, shop.token)
    as_other = _post(client, SALES, _paid(body, ("other", "100.00")), shop.token)
    as_cash = _post(client, SALES, _paid(body, ("cash", "100.00")), shop.token)

    assert as_first.status_code == 422  # no longer a method the shop takes in
    assert as_other.status_code == 200, as_other.content
    assert as_cash.status_code == 409
    assert Receipt.objects.count() == 1


def test_the_batch_replays_a_receipt_recorded_before_methods_were_codes(client):
    shop = make_shop()
    body = _paid(receipt_body(shop, number="OLD4"), (" CASH", "100.00"))
    _recorded_before(client, shop, body)

    reply = _post(
        client,
        BATCH,
        {
            "receipts": [
                _paid(body, ("现金", "100.00")),
                _paid(body, ("card", "100.00")),
            ]
        },
        shop.token,
    )

    assert reply.status_code == 200, reply.content
    results = reply.json()["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("replayed", None),
        ("rejected", "receipt_conflict"),
    ]
    assert Receipt.objects.count() == 1


REFUND_METHODS = importlib.import_module("omnimall.pos.migrations.0004_tillreturn_refund_method")


@pytest.mark.parametrize(
    ("payments", "filled"),
    [
        ([("wechat", "80.00")], "wechat"),
        ([("cash", "70.00"), ("points", "10.00")], "cash"),  # points aside
        ([("wechat", "50.00"), ("cash", "30.00")], ""),  # two ways: not known
    ],
)
def test_migration_gives_earlier_returns_their_receipts_one_way(client, payments, filled):
    shop = make_shop()
    body = _paid(receipt_body(shop, lines=[(shop.skus[0], 2, "40.00")]), *payments)
    if any(method == "points" for method, _ in payments):
        body["payments"][-1]["points"] = 1000
        body["member"] = {"card": make_member().card_number}
    assert _post(client, SALES, body, shop.token).status_code == 201, body
    back = return_body(
        shop,
        receipt_number=body["receipt_number"],
        lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": "40.00", "line_no": 1}],
    )
    assert _post(client, "/api/v1/pos/returns", back, shop.token).status_code == 201
    TillReturn.objects.update(refund_method="")  # as recorded before the field

    REFUND_METHODS.refund_methods_from_receipts(apps, None)

    assert TillReturn.objects.get().refund_method == filled
