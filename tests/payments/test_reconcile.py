"""Settlement files: the sandbox writes one, ``reconcile_payments`` matches it to the ledger."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from omnimall.payments import domain
from omnimall.payments import services as payments
from tests.payments.factories import STAFF, paid_payment, start_payment

HEADER = "trade_no,out_trade_no,refund_no,type,amount,currency,time\n"


@pytest.fixture
def settlement_file(db, tmp_path):
    first = paid_payment("100.00")
    paid_payment("35.20")
    start_payment(amount="9.90")  # never paid: in neither the file nor the ledger
    payments.refund_payment(
        order_id=first.order_id,
        amount=Decimal("40.00"),
        reason="damaged",
        refund_no="R-100",
        actor=STAFF,
    )
    path = tmp_path / "settlement.csv"
    call_command(
        "sandbox_settlement", "--date", timezone.localdate().isoformat(), "--out", str(path)
    )
    return path


def reconcile(path):
    out = StringIO()
    try:
        call_command("reconcile_payments", str(path), stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), ""


def test_sandbox_settlement_writes_every_payment_and_refund_of_the_day(settlement_file):
    lines = settlement_file.read_text().splitlines()

    assert lines[0] == HEADER.strip()
    rows = domain.parse_settlement(lines)
    assert sorted((r.type, r.amount) for r in rows) == [
        ("payment", Decimal("35.20")),
        ("payment", Decimal("100.00")),
        ("refund", Decimal("-40.00")),
    ]
    assert next(r for r in rows if r.type == "refund").refund_no == "R-100"


def test_reconcile_payments_exits_0_when_the_file_matches_the_ledger(settlement_file):
    code, out, _ = reconcile(settlement_file)

    assert code == 0
    assert "Settlement reconciles: 3 file row(s), 3 ledger entr" in out


def test_reconcile_payments_reports_each_mismatch_and_exits_1(settlement_file):
    lines = settlement_file.read_text().splitlines()
    header, rows = lines[0], lines[1:]
    refund_row = next(r for r in rows if ",refund," in r)
    small = next(r for r in rows if ",35.20," in r)
    kept = [r for r in rows if r not in (refund_row, small)]
    altered = small.replace(",35.20,", ",35.02,")
    stranger = (
        "2026112722000000000000000042,77-abcdefabcdef,,payment,12.00,CNY,"
        + (small.rsplit(",", 1)[1])
    )
    settlement_file.write_text("\n".join([header, *kept, altered, stranger]) + "\n")

    code, out, message = reconcile(settlement_file)

    assert code == 1
    assert "AMOUNT_DIFFERS payment" in out
    assert "file 35.02, ledger 35.20" in out
    assert "MISSING_IN_LEDGER payment 2026112722000000000000000042" in out
    assert "MISSING_IN_FILE refund R-100" in out
    assert "-40.00 CNY" in out
    assert "3 mismatch(es)" in message


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("trade_no,amount\n1,2\n", "header"),
        (HEADER + "T1,O1,,payment,abc,CNY,2026-11-27T10:00:00+08:00\n", "bad amount"),
        (HEADER + "T1,O1,,payment,-1.00,CNY,2026-11-27T10:00:00+08:00\n", "positive"),
        (HEADER + "T1,O1,,refund,-1.00,CNY,2026-11-27T10:00:00+08:00\n", "refund_no"),
        (HEADER + "T1,O1,,gift,1.00,CNY,2026-11-27T10:00:00+08:00\n", "type"),
        (HEADER + "T1,O1,,payment,1.00,CNY,2026-11-27 10:00:00\n", "UTC offset"),
        (HEADER + "T1,O1,,payment,1.00,CNY,yesterday\n", "bad time"),
        (HEADER + "T1,O1,,payment,1.00,CNY,9999-12-31T23:00:00+08:00\n", "out of range"),
        (HEADER + "T1,O1,,payment,1.00,CNY,0001-01-01T00:00:00+08:00\n", "out of range"),
        (HEADER + "T1,O1,,payment,1.00,CNY,2026-11-27T10:00:00+08:00,extra\n", "too many"),
        (
            HEADER
            + "T1,O1,,payment,1.00,CNY,2026-11-27T10:00:00+08:00\n"
            + "T1,O1,,payment,1.00,CNY,2026-11-27T10:00:00+08:00\n",
            "twice",
        ),
    ],
)
@pytest.mark.django_db
def test_reconcile_payments_exits_2_with_the_line_when_the_file_is_malformed(
    tmp_path, content, problem
):
    path = tmp_path / "bad.csv"
    path.write_text(content)

    code, _, message = reconcile(path)

    assert code == 2
    assert "Malformed settlement file" in message
    assert problem in message


EDGE_DAYS = ("9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01")


@pytest.mark.parametrize("day", EDGE_DAYS)
@pytest.mark.django_db
def test_reconcile_payments_refuses_a_date_out_of_range(tmp_path, day):
    path = tmp_path / "empty.csv"
    path.write_text(HEADER)

    with pytest.raises(CommandError) as refused:
        call_command("reconcile_payments", str(path), "--date", day, stdout=StringIO())

    assert f"argument --date: {day} is out of range" in str(refused.value)
    assert "2000-01-01 to 2099-12-31" in str(refused.value)


@pytest.mark.parametrize("day", EDGE_DAYS)
@pytest.mark.django_db
def test_sandbox_settlement_refuses_a_date_out_of_range(day):
    with pytest.raises(CommandError) as refused:
        call_command("sandbox_settlement", "--date", day, stdout=StringIO())

    assert f"argument --date: {day} is out of range" in str(refused.value)


@pytest.mark.django_db
def test_sandbox_settlement_refuses_a_date_that_does_not_exist():
    with pytest.raises(CommandError) as refused:
        call_command("sandbox_settlement", "--date", "2026-02-30", stdout=StringIO())

    assert "'2026-02-30' is not a date (YYYY-MM-DD)" in str(refused.value)


@pytest.mark.django_db
def test_reconcile_payments_exits_2_when_the_file_is_missing(tmp_path):
    code, _, message = reconcile(tmp_path / "nope.csv")

    assert code == 2
    assert "Cannot read" in message


@pytest.mark.django_db
def test_reconcile_payments_with_a_date_reports_ledger_entries_missing_from_an_empty_file(
    tmp_path,
):
    paid_payment("12.00")
    path = tmp_path / "empty.csv"
    path.write_text(HEADER)
    out = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command(
            "reconcile_payments", str(path), "--date", timezone.localdate().isoformat(), stdout=out
        )

    assert failed.value.returncode == 1
    assert "MISSING_IN_FILE payment" in out.getvalue()


def test_match_settlement_compares_amounts_as_numbers():
    row = domain.parse_settlement([HEADER, "T1,O1,,payment,10.5,CNY,2026-11-27T10:00:00+08:00\n"])[
        0
    ]
    entry = domain.LedgerRow("payment", "T1", "O1", Decimal("10.50"), "CNY", row.time)

    assert domain.match_settlement([row], {("payment", "T1"): entry}, [entry]) == []
