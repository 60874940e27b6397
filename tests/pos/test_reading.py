"""Reading receipts files: JSON lines and CSV, streamed, with the API's validation."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from omnimall.pos import schemas
from omnimall.pos.domain import Sale
from omnimall.pos.services.reading import (
    PosFileError,
    ReceiptIn,
    RejectedRow,
    read_csv,
    read_jsonl,
    read_sales,
)

HEADER = (
    "store,receipt_number,occurred_at,sku,quantity,unit_price,discount,member_phone,"
    "member_card,payment_method,payment_amount,payment_points,hold_id\n"
)
WHEN = "2026-11-27T10:15:00+08:00"


def _body(**overrides):
    body = {
        "store": "s1",
        "receipt_number": "R1",
        "occurred_at": WHEN,
        "lines": [{"sku": "A", "quantity": 2, "unit_price": "10.00"}],
        "payments": [{"method": "cash", "amount": "20.00"}],
    }
    body.update(overrides)
    return body


BODIES = [
    _body(),
    _body(member={"card": "123412341234"}),
    _body(lines=[]),
    _body(lines=[{"sku": "A", "quantity": "2", "unit_price": "1"}]),
    _body(lines=[{"sku": "A", "quantity": 1, "unit_price": "1.001"}]),
    _body(occurred_at="2026-11-27T10:15:00"),
    _body(extra=1),
    _body(payments=[{"method": "cash", "amount": "1", "points": 3}]),
    _body(payments=[{"method": "points", "amount": "1"}]),
    _body(payments=[{"method": "  ", "amount": "20.00"}]),
    _body(member={}),
    _body(lines=[{"sku": "A", "quantity": 1, "unit_price": "1.00", "discount": "2.00"}]),
]


@pytest.mark.parametrize("body", BODIES)
def test_the_readers_schema_gives_what_the_apis_schema_gives(body):
    text = json.dumps(body)

    def outcome(schema):
        try:
            return schema.model_validate_json(text).to_domain()
        except ValidationError as error:
            return [(e["loc"], e["msg"]) for e in error.errors()]

    assert outcome(ReceiptIn) == outcome(schemas.ReceiptIn)


def test_read_jsonl_gives_sales_and_rejects_bad_lines_with_their_line_numbers():
    lines = [json.dumps(_body()), "", "{not json", json.dumps(_body(receipt_number="R2", lines=[]))]

    got = list(read_jsonl(lines))

    assert isinstance(got[0], Sale)
    assert got[0].total == Decimal("20.00")
    assert got[1] == RejectedRow(3, "", "", "invalid_json", got[1].message)
    assert (got[2].line, got[2].receipt_number, got[2].code) == (4, "R2", "invalid_receipt")
    assert "lines" in got[2].message


def test_read_jsonl_rejects_a_receipt_paid_by_a_method_of_only_spaces():
    lines = [json.dumps(_body(payments=[{"method": " \t ", "amount": "20.00"}]))]

    (got,) = read_jsonl(lines)

    assert isinstance(got, RejectedRow)
    assert (got.line, got.receipt_number, got.code) == (1, "R1", "invalid_receipt")
    assert got.message.startswith("payments.0.method: only spaces")


def test_read_csv_groups_consecutive_rows_into_receipts():
    text = HEADER + (
        f"s1,R1,{WHEN},A,2,10.00,,13800138000,,cash,15.00,,\n"
        f"s1,R1,{WHEN},B,1,5.50,0.50,13800138000,,card,10.00,,\n"
        f"s1,R2,{WHEN},A,1,1.00,,,,,,,\n"
        f"s1,R3,{WHEN},A,1,3.00,,,998877665544,points,3.00,300,7\n"
    )

    got = list(read_csv(text.splitlines(keepends=True)))

    assert [sale.number for sale in got] == ["R1", "R2", "R3"]
    first = got[0]
    assert [(line.sku_code, line.quantity, line.discount) for line in first.lines] == [
        ("A", 2, Decimal("0")),
        ("B", 1, Decimal("0.50")),
    ]
    assert [(p.method, p.amount) for p in first.payments] == [
        ("cash", Decimal("15.00")),
        ("card", Decimal("10.00")),
    ]
    assert first.member_phone == "13800138000"
    assert got[1].payments == ()
    assert (got[2].member_card, got[2].points_paid, got[2].payments[0].hold_id) == (
        "998877665544",
        300,
        7,
    )


@pytest.mark.parametrize("method", ["", "   "])
def test_read_csv_rejects_a_payment_without_its_method_instead_of_dropping_it(method):
    # The other rows' payments add up to the total: dropped, the 5.00 would go unseen.
    text = HEADER + (
        f"s1,R1,{WHEN},A,1,10.00,,,,cash,10.00,,\n"
        f"s1,R1,{WHEN},,,,,,,{method},5.00,,\n"
        f"s1,R2,{WHEN},A,1,1.00,,,,,,,\n"
    )

    got = list(read_csv(text.splitlines(keepends=True)))

    assert isinstance(got[0], RejectedRow)
    assert (got[0].line, got[0].receipt_number, got[0].code) == (2, "R1", "invalid_receipt")
    assert got[0].message.startswith("payments.1.method:")
    assert isinstance(got[1], Sale)


def test_read_csv_rejects_a_bad_receipt_and_goes_on():
    text = HEADER + (
        f"s1,R1,{WHEN},A,two,10.00,,,,,,,\n"
        f"s1,R2,{WHEN},A,1,1.00,,,,,,,\n"
        f"s1,R3,{WHEN},A,1,1.00,,13800138000,,,,,\n"
        f"s1,R3,{WHEN},B,1,1.00,,13900139000,,,,,\n"
    )

    got = list(read_csv(text.splitlines(keepends=True)))

    assert (got[0].line, got[0].code) == (2, "invalid_receipt")
    assert "quantity" in got[0].message
    assert isinstance(got[1], Sale)
    assert got[2].code == "invalid_receipt"
    assert "member differs" in got[2].message


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("", "empty"),
        ("store,receipt_number,sku\n", "missing occurred_at"),
        (HEADER.strip() + ",colour\n", "unknown colour"),
    ],
)
def test_read_csv_refuses_a_file_whose_header_does_not_fit(text, wanted):
    with pytest.raises(PosFileError) as refused:
        list(read_csv(text.splitlines(keepends=True)))

    assert wanted in refused.value.message


def test_read_sales_streams_a_file_and_counts_its_bytes(tmp_path):
    path = tmp_path / "day.jsonl"
    path.write_text("".join(json.dumps(_body(receipt_number=f"R{i}")) + "\n" for i in range(3)))
    seen = []

    got = read_sales(path, on_bytes=seen.append)
    first = next(got)

    assert first.number == "R0"
    assert len(seen) == 1  # one line read so far, not the whole file
    assert [sale.number for sale in got] == ["R1", "R2"]
    assert sum(seen) == path.stat().st_size


def test_read_sales_refuses_an_unknown_suffix_and_bytes_that_are_not_utf8(tmp_path):
    odd = tmp_path / "day.xlsx"
    odd.write_text("x")
    latin = tmp_path / "day.csv"
    latin.write_bytes(HEADER.encode() + "s1,R1,café\n".encode("latin-1"))

    with pytest.raises(PosFileError, match="unknown format"):
        list(read_sales(odd))
    with pytest.raises(PosFileError, match="not UTF-8"):
        list(read_sales(latin))
