"""Inbound transfers: partner points → brand points, idempotent on the partner's id,
dated rates and per-member daily limits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from omnimall.core import clock
from omnimall.members.models import PartnerTransfer, PointsEntry, PointsEntryKind
from omnimall.members.partners import services, transfers
from omnimall.members.partners.errors import DailyLimitExceededError
from omnimall.members.selectors.points import ledger_mismatches
from tests.members.partners.factories import (
    ACTOR,
    TRANSFERS,
    make_member,
    make_partner,
    signed,
    today,
)

pytestmark = pytest.mark.django_db


def ask(member, txn="T-1", partner_points=1000, by="card"):
    ref = {"card": member.card_number} if by == "card" else {"phone": member.phone}
    return {"transaction_id": txn, "member": ref, "partner_points": partner_points}


def test_inbound_transfer_credits_floor_of_points_times_rate(client):
    kit = make_partner(rate_in="0.35")
    member = make_member()

    response = signed(client, kit, "POST", TRANSFERS, ask(member, partner_points=1001))

    assert response.status_code == 201
    data = response.json()
    assert data["brand_points"] == 350  # floor(1001 × 0.35 = 350.35)
    assert data["state"] == "completed"
    assert data["member"] == {"card_number": member.card_number}
    member.refresh_from_db()
    assert member.points_available == 350
    entry = PointsEntry.objects.get(member=member)
    assert entry.kind == PointsEntryKind.TRANSFER_IN
    assert entry.source_key == f"partner:{kit.code}:in:T-1"
    assert ledger_mismatches() == []


def test_inbound_transfer_finds_the_member_by_phone_in_any_usual_form(client):
    kit = make_partner()
    member = make_member()
    local = member.phone.removeprefix("+86")
    payload = {"transaction_id": "T-9", "member": {"phone": local}, "partner_points": 10}

    response = signed(client, kit, "POST", TRANSFERS, payload)

    assert response.status_code == 201
    member.refresh_from_db()
    assert member.points_available == 5


def test_inbound_replay_returns_the_same_body_and_posts_once(client):
    kit = make_partner()
    member = make_member()
    first = signed(client, kit, "POST", TRANSFERS, ask(member))

    again = signed(client, kit, "POST", TRANSFERS, ask(member))

    assert again.status_code == 200
    assert again.json() == first.json()
    assert PointsEntry.objects.filter(member=member).count() == 1
    member.refresh_from_db()
    assert member.points_available == 500


def test_inbound_same_transaction_id_with_another_payload_is_a_conflict(client):
    kit = make_partner()
    member = make_member()
    signed(client, kit, "POST", TRANSFERS, ask(member))

    other = signed(client, kit, "POST", TRANSFERS, ask(member, partner_points=2000))

    assert other.status_code == 409
    assert other.json()["error"]["code"] == "transfer_conflict"
    member.refresh_from_db()
    assert member.points_available == 500


def test_inbound_keeps_the_members_account_at_the_partner(client):
    kit = make_partner()
    member = make_member()
    payload = {**ask(member), "partner_account": " 6225-0001 "}

    first = signed(client, kit, "POST", TRANSFERS, payload)
    again = signed(client, kit, "POST", TRANSFERS, payload)
    other = signed(client, kit, "POST", TRANSFERS, {**payload, "partner_account": "6225-0002"})

    assert first.status_code == 201
    assert first.json()["partner_account"] == "6225-0001"
    assert (again.status_code, again.json()) == (200, first.json())
    assert other.status_code == 409  # the same id for another account is another request
    assert PartnerTransfer.objects.get().partner_account == "6225-0001"
    member.refresh_from_db()
    assert member.points_available == 500


def test_inbound_account_longer_than_64_is_422_and_nothing_recorded(client):
    kit = make_partner()
    member = make_member()

    response = signed(client, kit, "POST", TRANSFERS, {**ask(member), "partner_account": "9" * 65})

    assert response.status_code == 422
    assert not PartnerTransfer.objects.exists()


def test_same_transaction_id_from_two_partners_is_two_transfers(client):
    bank = make_partner("bank")
    air = make_partner("air")
    member = make_member()

    assert signed(client, bank, "POST", TRANSFERS, ask(member)).status_code == 201
    assert signed(client, air, "POST", TRANSFERS, ask(member)).status_code == 201

    member.refresh_from_db()
    assert member.points_available == 1000


def test_inbound_refused_when_daily_limit_would_be_exceeded(client):
    kit = make_partner(inbound_daily_limit=800)
    member = make_member()
    assert signed(client, kit, "POST", TRANSFERS, ask(member, "T-1")).status_code == 201

    refused = signed(client, kit, "POST", TRANSFERS, ask(member, "T-2", partner_points=700))

    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "daily_limit_exceeded"
    assert error["details"] == {"limit": 800, "used_today": 500, "requested": 350}
    assert not PartnerTransfer.objects.filter(transaction_id="T-2").exists()
    member.refresh_from_db()
    assert member.points_available == 500
    # up to the limit exactly is fine; another member has their own limit
    assert signed(client, kit, "POST", TRANSFERS, ask(member, "T-3", 600)).status_code == 201
    other = make_member()
    assert signed(client, kit, "POST", TRANSFERS, ask(other, "T-4", 1600)).status_code == 201


def test_daily_limit_counts_the_shop_day_only():
    kit = make_partner(inbound_daily_limit=500)
    member = make_member()
    transfers.receive_transfer(
        partner=kit.partner,
        transaction_id="T-1",
        phone="",
        card=member.card_number,
        partner_points=1000,
        actor=ACTOR,
    )

    with pytest.raises(DailyLimitExceededError):
        transfers.receive_transfer(
            partner=kit.partner,
            transaction_id="T-2",
            phone="",
            card=member.card_number,
            partner_points=2,
            actor=ACTOR,
        )
    tomorrow = transfers.receive_transfer(
        partner=kit.partner,
        transaction_id="T-3",
        phone="",
        card=member.card_number,
        partner_points=1000,
        actor=ACTOR,
        now=clock.now() + timedelta(days=1),
    )

    assert tomorrow.created


def test_inbound_uses_the_rate_valid_on_the_day():
    kit = make_partner(rate_in="0.5")
    services.set_rate(
        partner_id=kit.partner.pk,
        direction="in",
        rate=Decimal("2"),
        valid_from=today() + timedelta(days=1),
        actor=ACTOR,
    )
    services.set_rate(
        partner_id=kit.partner.pk,
        direction="in",
        rate=Decimal("9"),
        valid_from=today() - timedelta(days=30),
        actor=ACTOR,
    )
    member = make_member()

    now_rate = transfers.receive_transfer(
        partner=kit.partner,
        transaction_id="T-1",
        phone="",
        card=member.card_number,
        partner_points=100,
        actor=ACTOR,
    )
    later = transfers.receive_transfer(
        partner=kit.partner,
        transaction_id="T-2",
        phone="",
        card=member.card_number,
        partner_points=100,
        actor=ACTOR,
        now=clock.now() + timedelta(days=1),
    )

    assert (now_rate.transfer.brand_points, now_rate.transfer.rate) == (50, Decimal("0.5"))
    assert (later.transfer.brand_points, later.transfer.rate) == (200, Decimal("2"))


def test_inbound_refused_when_no_rate_is_valid_yet(client):
    kit = make_partner(rate_in="")
    member = make_member()

    response = signed(client, kit, "POST", TRANSFERS, ask(member))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_rate"
    assert PartnerTransfer.objects.count() == 0


def test_inbound_unknown_member_is_404_and_nothing_recorded(client):
    kit = make_partner()
    payload = {"transaction_id": "T-1", "member": {"card": "999999999999"}, "partner_points": 5}

    response = signed(client, kit, "POST", TRANSFERS, payload)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "member_not_found"
    assert PartnerTransfer.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"transaction_id": "T-1", "member": {"card": "1"}, "partner_points": 0},
        {"transaction_id": "T-1", "member": {"card": "1"}, "partner_points": -5},
        {"transaction_id": "T-1", "member": {"card": "1"}, "partner_points": "10"},
        {"transaction_id": "T-1", "member": {"card": "1"}, "partner_points": 1.5},
        {"transaction_id": "T-1", "member": {}, "partner_points": 10},
        {"transaction_id": "T-1", "member": {"card": "1", "phone": "2"}, "partner_points": 10},
        {"transaction_id": "", "member": {"card": "1"}, "partner_points": 10},
        {"transaction_id": "bad id!", "member": {"card": "1"}, "partner_points": 10},
        {"transaction_id": "T-1", "member": {"card": "1"}, "partner_points": 10, "rate": 99},
    ],
)
def test_inbound_invalid_request_is_422(client, payload):
    kit = make_partner()

    response = signed(client, kit, "POST", TRANSFERS, payload)

    assert response.status_code == 422
    assert PartnerTransfer.objects.count() == 0


def test_transfer_status_is_readable_by_its_partner_only(client):
    kit = make_partner("bank")
    other = make_partner("air")
    member = make_member()
    created = signed(client, kit, "POST", TRANSFERS, ask(member)).json()

    mine = signed(client, kit, "GET", f"{TRANSFERS}/T-1")
    theirs = signed(client, other, "GET", f"{TRANSFERS}/T-1")

    assert mine.status_code == 200
    assert mine.json() == created
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "transfer_not_found"
