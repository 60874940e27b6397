"""omnimall manage import_pos_sales FILE: a day's receipts from a file, each applied once."""

from __future__ import annotations

import csv
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from omnimall.members.selectors.points import ledger_mismatches
from omnimall.pos.models import Receipt, ReceiptSource
from omnimall.pos.services import sales as sale_services
from tests.inventory.factories import level_of
from tests.pos.factories import ACTOR, make_member, make_shop, receipt_body, sale_of

pytestmark = pytest.mark.django_db
NO_SUCH_SKU = {"sku": "NOPE", "quantity": 1, "unit_price": "1"}


def _run(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_pos_sales", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _the_rejection(path):
    """Import ``path``, which rejects exactly one receipt: that receipt's row of the report
    (the command exits 1)."""
    with pytest.raises(CommandError) as failed:
        _run(path, "--no-progress")
    assert failed.value.returncode == 1
    (row,) = csv.DictReader(path.with_name(f"{path.stem}.rejected.csv").open())
    return row


def _jsonl(path, bodies):
    path.write_text("".join(json.dumps(body) + "\n" for body in bodies), encoding="utf-8")
    return path


def test_import_applies_a_jsonl_file_once_and_replays_it_after(tmp_path, capsys):
    shop = make_shop(units=10)
    member = make_member()
    path = _jsonl(
        tmp_path / "day.jsonl",
        [
            receipt_body(shop, number="F1", member={"card": member.card_number}),
            receipt_body(shop, number="F2", lines=[(shop.skus[1], 2, "9.90")]),
        ],
    )

    out, _ = _run(path)
    bar = capsys.readouterr().err
    again, _ = _run(path, "--no-progress")

    assert "2 receipts" in out
    assert "2 created" in out
    assert "day.jsonl" in bar  # the progress bar (tqdm, on stderr)
    assert "2 already recorded" in again
    assert set(Receipt.objects.values_list("number", "source")) == {
        ("F1", ReceiptSource.FILE),
        ("F2", ReceiptSource.FILE),
    }
    assert level_of(shop.store, shop.skus[1]).on_hand == 8
    call_command("check_stock_ledger", verbosity=0)
    assert ledger_mismatches() == []
    assert not (tmp_path / "day.rejected.csv").exists()


def test_import_writes_the_rejected_receipts_and_exits_1(tmp_path):
    shop = make_shop(units=10)
    good = receipt_body(shop, number="G1")
    path = tmp_path / "day.jsonl"
    path.write_text(
        json.dumps(good)
        + "\n{broken\n"
        + json.dumps({**receipt_body(shop, number="G2"), "lines": [NO_SUCH_SKU]})
        + "\n",
        encoding="utf-8",
    )
    report = tmp_path / "rejects.csv"

    results = tmp_path / "results.csv"

    with pytest.raises(CommandError) as failed:
        _run(path, "--report", str(report), "--results", str(results), "--no-progress")

    assert failed.value.returncode == 1
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["receipt"], r["line"], r["code"]) for r in rows] == [
        ("", "2", "invalid_json"),
        ("G2", "", "unknown_sku"),
    ]
    assert all(r["reason"] for r in rows)
    every = list(csv.DictReader(results.open(encoding="utf-8")))
    assert [(r["receipt"], r["status"]) for r in every] == [
        ("G1", "created"),
        ("", "rejected"),
        ("G2", "rejected"),
    ]
    assert list(Receipt.objects.values_list("number", flat=True)) == ["G1"]


def test_import_reads_a_csv_file(tmp_path):
    shop = make_shop(units=10)
    a, b = shop.skus
    path = tmp_path / "day.csv"
    path.write_text(
        "store,receipt_number,occurred_at,sku,quantity,unit_price,payment_method,payment_amount\n"
        f"{shop.store.code},C1,2026-11-27T10:00:00+08:00,{a.code},1,10.00,cash,13.00\n"
        f"{shop.store.code},C1,2026-11-27T10:00:00+08:00,{b.code},1,3.00,,\n"
        f"{shop.store.code},C2,2026-11-27T11:00:00+08:00,{b.code},3,1.00,card,3.00\n",
        encoding="utf-8",
    )

    out, _ = _run(path, "--no-progress")

    assert "2 created" in out
    c1 = Receipt.objects.get(number="C1")
    assert (c1.lines.count(), str(c1.total), c1.payments) == (
        2,
        "13.00",
        [{"method": "cash", "amount": "13.00"}],
    )
    assert level_of(shop.store, b).on_hand == 6


def test_import_replays_receipts_the_till_posted_live_from_another_exporters_csv(tmp_path):
    shop = make_shop(units=10)
    sku = shop.skus[0]
    live = receipt_body(shop, number="C1", lines=[(sku, 2, "10.00")])
    live["occurred_at"] = "2026-11-27T18:00:00+08:00"
    sale_services.record_sale(
        sale=sale_of(live), store_id=shop.store.pk, source=ReceiptSource.API, actor=ACTOR
    )
    path = tmp_path / "day.csv"
    path.write_text(  # whole yuan, no discount column, times in UTC
        "store,receipt_number,occurred_at,sku,quantity,unit_price,payment_method,payment_amount\n"
        f"{shop.store.code},C1,2026-11-27T10:00:00Z,{sku.code},2,10,cash,20\n",
        encoding="utf-8",
    )

    out, _ = _run(path, "--no-progress")

    assert "1 already recorded" in out
    assert Receipt.objects.count() == 1
    assert level_of(shop.store, sku).on_hand == 8


def test_import_rejects_a_receipt_number_of_only_spaces_in_either_format(tmp_path):
    shop = make_shop(units=10)
    sku = shop.skus[0]
    jsonl = _jsonl(
        tmp_path / "day.jsonl",
        [receipt_body(shop, number="   "), receipt_body(shop, number="S1")],
    )
    csv_file = tmp_path / "day.csv"
    csv_file.write_text(
        "store,receipt_number,occurred_at,sku,quantity,unit_price,payment_method,payment_amount\n"
        f"{shop.store.code}, ,2026-11-27T10:00:00+08:00,{sku.code},1,10.00,cash,10.00\n",
        encoding="utf-8",
    )

    for path in (jsonl, csv_file):
        row = _the_rejection(path)
        assert (row["line"], row["code"]) == ("1" if path is jsonl else "2", "invalid_receipt")
        assert "receipt_number" in row["reason"]

    assert list(Receipt.objects.values_list("number", flat=True)) == ["S1"]


def test_import_rejects_receipts_not_paid_exactly_in_the_shop_currency(tmp_path):
    shop = make_shop(units=10)
    member = make_member()
    a, b = shop.skus
    head = f"{shop.store.code},{{}},2026-11-27T10:00:00+08:00"
    path = tmp_path / "day.csv"
    path.write_text(
        "store,receipt_number,occurred_at,sku,quantity,unit_price,currency,member_card,"
        "payment_method,payment_amount\n"
        f"{head.format('U1')},{a.code},1,10.00,,{member.card_number},cash,9.00\n"
        f"{head.format('O1')},{a.code},1,10.00,,{member.card_number},cash,10.00\n"
        f"{head.format('O1')},{b.code},1,3.00,,{member.card_number},card,3.01\n"
        f"{head.format('D1')},{a.code},1,10.00,USD,{member.card_number},card,10.00\n"
        f"{head.format('N1')},{a.code},1,10.00,,{member.card_number},,\n"
        f"{head.format('E1')},{a.code},1,10.00,CNY,{member.card_number},cash,10.00\n",
        encoding="utf-8",
    )

    with pytest.raises(CommandError) as failed:
        _run(path, "--no-progress")

    assert failed.value.returncode == 1
    rows = list(csv.DictReader((tmp_path / "day.rejected.csv").open(encoding="utf-8")))
    assert [(r["receipt"], r["code"]) for r in rows] == [
        ("U1", "payments_mismatch"),
        ("O1", "payments_mismatch"),
        ("D1", "unsupported_currency"),
        ("N1", "payments_mismatch"),
    ]
    assert "9.00 CNY" in rows[0]["reason"]
    assert list(Receipt.objects.values_list("number", flat=True)) == ["E1"]
    assert (level_of(shop.store, a).on_hand, level_of(shop.store, b).on_hand) == (9, 10)
    member.refresh_from_db()
    assert member.points_available == 10


@pytest.mark.parametrize(
    ("name", "content"),
    [("day.txt", "x"), ("missing.jsonl", None), ("bad.csv", "store,sku\n")],
)
def test_import_exits_2_when_the_file_cannot_be_read(tmp_path, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")

    with pytest.raises(CommandError) as failed:
        _run(path, "--no-progress")

    assert failed.value.returncode == 2
    assert not Receipt.objects.exists()


def test_import_rejects_a_receipt_paid_by_an_unknown_method_in_either_format(tmp_path):
    shop = make_shop(units=10)
    sku = shop.skus[0]
    jsonl = _jsonl(
        tmp_path / "day.jsonl",
        [
            receipt_body(shop, number="J1", payments=[{"method": "voucher", "amount": "100.00"}]),
            receipt_body(shop, number="J2", payments=[{"method": "支付宝", "amount": "100.00"}]),
        ],
    )
    csv_file = tmp_path / "day.csv"
    csv_file.write_text(
        "store,receipt_number,occurred_at,sku,quantity,unit_price,payment_method,payment_amount\n"
        f"{shop.store.code},K1,2026-11-27T10:00:00+08:00,{sku.code},1,10.00,cash,4.00\n"
        f"{shop.store.code},K1,2026-11-27T10:00:00+08:00,,,,购物卡,6.00\n"
        f"{shop.store.code},K2,2026-11-27T10:00:00+08:00,{sku.code},1,10.00,Cash,10.00\n",
        encoding="utf-8",
    )

    for path in (jsonl, csv_file):
        row = _the_rejection(path)
        assert (row["receipt"], row["code"]) == (
            "J1" if path is jsonl else "K1",
            "invalid_receipt",
        )
        position = "payments.0.method" if path is jsonl else "payments.1.method"
        assert row["reason"].startswith(f"{position}: unknown payment method")

    assert dict(Receipt.objects.values_list("number", "payments")) == {
        "J2": [{"method": "alipay", "amount": "100.00"}],
        "K2": [{"method": "cash", "amount": "10.00"}],
    }


def test_import_replays_receipts_whose_payment_method_another_exporter_spells_otherwise(
    tmp_path,
):
    shop = make_shop(units=10)
    sku = shop.skus[0]
    live = receipt_body(shop, number="W1", lines=[(sku, 2, "10.00")])
    live["occurred_at"] = "2026-11-27T18:00:00+08:00"
    live["payments"] = [{"method": "wechat", "amount": "15.00"}, {"method": "cash", "amount": "5"}]
    sale_services.record_sale(
        sale=sale_of(live), store_id=shop.store.pk, source=ReceiptSource.API, actor=ACTOR
    )
    path = tmp_path / "day.csv"
    path.write_text(
        "store,receipt_number,occurred_at,sku,quantity,unit_price,payment_method,payment_amount\n"
        f"{shop.store.code},W1,2026-11-27T18:00:00+08:00,{sku.code},2,10.00,微信支付,15.00\n"
        f"{shop.store.code},W1,2026-11-27T18:00:00+08:00,,,,现金,5.00\n"
        f"{shop.store.code},W2,2026-11-27T18:05:00+08:00,{sku.code},1,10.00,WeChat,10.00\n",
        encoding="utf-8",
    )

    out, _ = _run(path, "--no-progress")

    assert "1 created" in out
    assert "1 already recorded" in out
    assert level_of(shop.store, sku).on_hand == 7
    assert Receipt.objects.get(number="W2").payments == [{"method": "wechat", "amount": "10.00"}]
