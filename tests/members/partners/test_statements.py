"""``partner_statement`` writes the day's CSV; ``import_partner_statement`` matches a
partner's file and flags every mismatch (exit 0 clean / 1 mismatches / 2 bad file)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from omnimall.members.models import PartnerReconciliation
from omnimall.members.partners import outbound, transfers
from tests.members.partners.factories import ACTOR, make_member, make_partner, today

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_delivery_on_commit(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def day_of_transfers():
    kit = make_partner()
    member = make_member(available=5000)
    for n, partner_points in enumerate((100, 200, 300), start=1):
        transfers.receive_transfer(
            partner=kit.partner,
            transaction_id=f"IN-{n}",
            phone="",
            card=member.card_number,
            partner_points=partner_points,
            actor=ACTOR,
            partner_account="FF-7" if n == 2 else "",
        )
    outbound.request_outbound_transfer(
        member_id=member.pk,
        partner_id=kit.partner.pk,
        brand_points=1000,
        transaction_id="OM" + "a" * 30,
        actor=ACTOR,
        partner_account=" FF-8 ",
    )
    return kit, member


def statement(kit) -> str:
    out = io.StringIO()
    call_command("partner_statement", kit.code, today().isoformat(), stdout=out)
    return out.getvalue()


def test_statement_lists_the_days_transfers(day_of_transfers):
    kit, member = day_of_transfers

    rows = list(csv.DictReader(io.StringIO(statement(kit))))

    assert [r["transaction_id"] for r in rows] == ["IN-1", "IN-2", "IN-3", "OM" + "a" * 30]
    assert rows[1] == {
        "transaction_id": "IN-2",
        "direction": "in",
        "member_card": member.card_number,
        "partner_points": "200",
        "brand_points": "100",
        "state": "completed",
        "time": rows[1]["time"],
        "partner_account": "FF-7",
    }
    assert rows[0]["partner_account"] == ""
    assert rows[3]["direction"] == "out"
    assert rows[3]["state"] == "reserved"
    assert rows[3]["partner_account"] == "FF-8"
    assert timezone.datetime.fromisoformat(rows[0]["time"]).date() == today()


def test_statement_of_another_day_is_empty(day_of_transfers, tmp_path):
    kit, _ = day_of_transfers
    target = tmp_path / "s.csv"

    call_command("partner_statement", kit.code, "2001-01-01", out=str(target))

    assert target.read_text().splitlines() == [
        "transaction_id,direction,member_card,partner_points,brand_points,state,time,"
        "partner_account"
    ]


def test_import_of_our_own_statement_reconciles(day_of_transfers, tmp_path):
    kit, _ = day_of_transfers
    path = tmp_path / "bank.csv"
    path.write_text(statement(kit))
    out = io.StringIO()

    call_command("import_partner_statement", kit.code, str(path), stdout=out)

    assert "Statement reconciles" in out.getvalue()
    result = PartnerReconciliation.objects.get()
    assert (result.matched, result.mismatches, result.day) == (4, [], today())


def edited(text: str, edit) -> str:
    rows = list(csv.DictReader(io.StringIO(text)))
    rows = edit(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0].keys()), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _mismatching(rows):
    rows[0]["partner_points"] = "101"  # IN-1: different points
    rows[1]["state"] = "failed"  # IN-2: different state
    del rows[2]  # IN-3: missing in their file
    rows[-1]["state"] = "completed"  # the outbound one: they completed, we wait
    rows[-1]["partner_account"] = "FF-9"  # … and credited another account
    rows.append({**rows[0], "transaction_id": "IN-99", "partner_points": "5"})  # unknown here
    return rows


def test_import_flags_every_mismatch_and_exits_1(day_of_transfers, tmp_path):
    kit, _ = day_of_transfers
    path = tmp_path / "bank.csv"
    path.write_text(edited(statement(kit), _mismatching))
    out = io.StringIO()

    with pytest.raises(CommandError) as refused:
        call_command("import_partner_statement", kit.code, str(path), stdout=out)

    assert refused.value.returncode == 1
    result = PartnerReconciliation.objects.get()
    problems = sorted((m["transaction_id"], m["problem"]) for m in result.mismatches)
    assert problems == [
        ("IN-1", "partner_points"),
        ("IN-2", "state"),
        ("IN-3", "missing_in_file"),
        ("IN-99", "missing_here"),
        ("OM" + "a" * 30, "partner_account"),
        ("OM" + "a" * 30, "state"),
    ]
    assert result.matched == 0
    printed = out.getvalue()
    assert "in IN-1: partner_points (ours 100, theirs 101)" in printed
    assert "in IN-3: missing_in_file" in printed


@pytest.mark.parametrize(
    "content",
    [
        "transaction_id,direction\nA,in\n",  # missing columns
        "transaction_id,direction,partner_points,state\nA,sideways,1,completed\n",
        "transaction_id,direction,partner_points,state\nA,in,ten,completed\n",
        "transaction_id,direction,partner_points,state\nA,in,1,lost\n",
        "transaction_id,direction,partner_points,state,time\nA,in,1,completed,yesterday\n",
        "transaction_id,direction,partner_points,state,time\n"
        "A,in,1,completed,9999-12-31T23:00:00+08:00\n",
        "transaction_id,direction,partner_points,state,time\n"
        "A,in,1,completed,0001-01-01T00:00:00+08:00\n",
        "transaction_id,direction,partner_points,state\nA,in,1,completed\nA,in,1,completed\n",
        "transaction_id,direction,partner_points,state\nA,in,1,completed\n",  # no time, no --date
    ],
)
def test_import_of_a_bad_file_exits_2_and_records_nothing(day_of_transfers, tmp_path, content):
    kit, _ = day_of_transfers
    path = tmp_path / "bad.csv"
    path.write_text(content)

    with pytest.raises(CommandError) as refused:
        call_command("import_partner_statement", kit.code, str(path))

    assert refused.value.returncode == 2
    assert PartnerReconciliation.objects.count() == 0


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01"])
def test_statement_and_import_refuse_a_date_out_of_range(day_of_transfers, tmp_path, day):
    kit, _ = day_of_transfers
    path = tmp_path / "empty.csv"
    path.write_text("transaction_id,direction,partner_points,state\n")

    with pytest.raises(CommandError) as statement:
        call_command("partner_statement", kit.code, day, stdout=io.StringIO())
    with pytest.raises(CommandError) as imported:
        call_command("import_partner_statement", kit.code, str(path), "--date", day)

    assert f"argument date: {day} is out of range" in str(statement.value)
    assert f"argument --date: {day} is out of range" in str(imported.value)
    assert PartnerReconciliation.objects.count() == 0


def test_import_of_a_missing_file_or_unknown_partner_exits_2(day_of_transfers, tmp_path):
    kit, _ = day_of_transfers

    with pytest.raises(CommandError) as missing:
        call_command("import_partner_statement", kit.code, str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError) as unknown:
        call_command("import_partner_statement", "nobody", str(Path(__file__)))

    assert missing.value.returncode == 2
    assert unknown.value.returncode == 2


def test_failed_transfers_missing_on_one_side_are_no_mismatch(day_of_transfers, tmp_path):
    kit, _ = day_of_transfers
    txn = "OM" + "a" * 30
    outbound.confirm_transfer(
        partner=kit.partner,
        transaction_id=txn,
        status="failed",
        partner_reference="",
        actor=ACTOR,
    )

    def edit(rows):
        rows = [row for row in rows if row["transaction_id"] != txn]  # they never saw it
        rows.append({**rows[0], "transaction_id": "REFUSED-1", "state": "failed"})
        return rows

    path = tmp_path / "bank.csv"
    path.write_text(edited(statement(kit), edit))

    call_command("import_partner_statement", kit.code, str(path), stdout=io.StringIO())

    assert PartnerReconciliation.objects.get().mismatches == []


def test_import_of_an_empty_file_with_a_date_flags_what_is_missing(day_of_transfers, tmp_path):
    kit, _ = day_of_transfers
    path = tmp_path / "empty.csv"
    path.write_text("transaction_id,direction,member_card,partner_points,brand_points,state,time\n")

    with pytest.raises(CommandError) as refused:
        call_command("import_partner_statement", kit.code, str(path), "--date", today().isoformat())

    assert refused.value.returncode == 1
    assert len(PartnerReconciliation.objects.get().mismatches) == 4


def test_a_file_without_accounts_still_reconciles(day_of_transfers, tmp_path):
    """Partners whose files predate the column (or never know the account) match as
    before; an account is compared only where their file gives one."""
    kit, _ = day_of_transfers

    def without_accounts(rows):
        return [{k: v for k, v in row.items() if k != "partner_account"} for row in rows]

    path = tmp_path / "bank.csv"
    path.write_text(edited(statement(kit), without_accounts))

    call_command("import_partner_statement", kit.code, str(path), stdout=io.StringIO())

    assert PartnerReconciliation.objects.get().mismatches == []
