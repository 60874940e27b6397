"""Outbound transfers: reserve (hold + outbox request) → the partner confirms → commit;
a refusal, a dead letter or no answer releases the points."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from omnimall.core import clock, outbox
from omnimall.core.models import OutboxMessage, OutboxState
from omnimall.core.outbox import transports
from omnimall.members.models import (
    HoldState,
    PartnerTransfer,
    PointsEntry,
    PointsEntryKind,
    TransferState,
)
from omnimall.members.partners import outbound, services, signing
from omnimall.members.partners.errors import (
    DailyLimitExceededError,
    PartnerUnavailableError,
    TooFewPointsError,
    TransferConflictError,
)
from omnimall.members.selectors.points import ledger_mismatches
from omnimall.members.services.points import InsufficientPointsError
from tests.members.partners.factories import (
    ACTOR,
    TRANSFERS,
    make_member,
    make_partner,
    signed,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_delivery_on_commit(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def partner_server(monkeypatch):
    """The partner's endpoint: records each request, answers with ``reply``."""
    calls: list[dict] = []
    reply = {"status": 200}

    def fake_post(url: str, data: bytes, headers: dict[str, str]):
        calls.append({"url": url, "body": data, "headers": headers})
        return reply["status"], b"ok"

    monkeypatch.setattr(transports, "_post", fake_post)
    return calls, reply


def reserve(kit, member, brand_points=1005, txn="OM" + "0" * 30, **kw):
    return outbound.request_outbound_transfer(
        member_id=member.pk,
        partner_id=kit.partner.pk,
        brand_points=brand_points,
        transaction_id=txn,
        actor=ACTOR,
        **kw,
    )


def balances(member):
    member.refresh_from_db()
    return member.points_available, member.points_held


def test_reserve_holds_the_points_and_sends_a_signed_request(partner_server):
    calls, _ = partner_server
    kit = make_partner(rate_out="10")
    member = make_member(available=2000)

    outcome = reserve(kit, member, brand_points=1005, partner_account="FF-123")
    report = outbox.deliver_due()

    transfer = outcome.transfer
    assert (transfer.partner_points, transfer.brand_points) == (100, 1000)
    assert transfer.state == TransferState.RESERVED
    assert transfer.hold.state == HoldState.HELD
    assert balances(member) == (1000, 1000)
    assert report.delivered == 1
    (call,) = calls
    assert call["url"] == "http://partner.test/points"
    assert outbox.verify(
        secret=signing.outbound_secret(kit.secret),
        body=call["body"],
        header=call["headers"][outbox.SIGNATURE_HEADER],
    )
    event = json.loads(call["body"])
    assert event["topic"] == "partner.points_transfer"
    assert event["data"]["transaction_id"] == transfer.transaction_id
    assert event["data"]["partner_points"] == 100
    assert event["data"]["partner_account"] == "FF-123"
    assert transfer.partner_account == "FF-123"  # kept for the statement
    assert event["data"]["member"]["card_number"] == member.card_number
    assert event["data"]["confirm_url"].endswith(f"{TRANSFERS}/{transfer.transaction_id}/confirm")
    assert ledger_mismatches() == []


def test_partner_confirms_completed_then_points_are_gone(client, partner_server):
    kit = make_partner()
    member = make_member(available=2000)
    txn = reserve(kit, member).transfer.transaction_id

    response = signed(
        client,
        kit,
        "POST",
        f"{TRANSFERS}/{txn}/confirm",
        {"status": "completed", "partner_reference": "BANK-77"},
    )

    assert response.status_code == 200
    assert response.json()["state"] == "completed"
    assert response.json()["partner_reference"] == "BANK-77"
    assert balances(member) == (1000, 0)
    out = PointsEntry.objects.get(kind=PointsEntryKind.TRANSFER_OUT)
    assert out.source_key == f"partner:{kit.code}:out:{txn}"
    assert out.held_delta == -1000
    assert ledger_mismatches() == []
    # the same answer again is harmless; the other answer now is a conflict
    again = signed(client, kit, "POST", f"{TRANSFERS}/{txn}/confirm", {"status": "completed"})
    assert again.status_code == 200
    refused = signed(client, kit, "POST", f"{TRANSFERS}/{txn}/confirm", {"status": "failed"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "transfer_state_conflict"
    assert balances(member) == (1000, 0)


def test_partner_refuses_then_points_are_released(client, partner_server):
    kit = make_partner()
    member = make_member(available=2000)
    txn = reserve(kit, member).transfer.transaction_id

    response = signed(client, kit, "POST", f"{TRANSFERS}/{txn}/confirm", {"status": "failed"})

    assert response.status_code == 200
    assert response.json()["state"] == "failed"
    assert balances(member) == (2000, 0)
    assert PartnerTransfer.objects.get().hold.state == HoldState.RELEASED
    assert ledger_mismatches() == []
    late = signed(client, kit, "POST", f"{TRANSFERS}/{txn}/confirm", {"status": "completed"})
    assert late.status_code == 409
    assert balances(member) == (2000, 0)


def test_confirm_for_another_partners_transfer_is_404(client, partner_server):
    kit = make_partner("bank")
    other = make_partner("air")
    member = make_member(available=2000)
    txn = reserve(kit, member).transfer.transaction_id

    response = signed(client, other, "POST", f"{TRANSFERS}/{txn}/confirm", {"status": "completed"})

    assert response.status_code == 404
    assert balances(member) == (1000, 1000)


def test_outbound_status_is_readable_with_direction_out(client, partner_server):
    kit = make_partner()
    member = make_member(available=2000)
    txn = reserve(kit, member).transfer.transaction_id

    response = signed(client, kit, "GET", f"{TRANSFERS}/{txn}?direction=out")

    assert response.status_code == 200
    assert response.json()["state"] == "reserved"


def test_reserve_twice_with_the_same_transaction_id_is_one_transfer(partner_server):
    kit = make_partner()
    member = make_member(available=3000)

    first = reserve(kit, member)
    second = reserve(kit, member)

    assert first.created
    assert not second.created
    assert second.transfer.pk == first.transfer.pk
    assert balances(member) == (2000, 1000)
    assert OutboxMessage.objects.filter(topic="partner.points_transfer").count() == 1
    with pytest.raises(TransferConflictError):
        reserve(kit, member, brand_points=50)


def test_reserve_refused_when_points_are_short(partner_server):
    kit = make_partner()
    member = make_member(available=500)

    with pytest.raises(InsufficientPointsError):
        reserve(kit, member, brand_points=1000)

    assert PartnerTransfer.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert balances(member) == (500, 0)


def test_reserve_refused_over_the_daily_limit_counting_reserved_ones(partner_server):
    kit = make_partner(outbound_daily_limit=1500)
    member = make_member(available=5000)
    reserve(kit, member, brand_points=1000, txn="OM" + "1" * 30)

    with pytest.raises(DailyLimitExceededError):
        reserve(kit, member, brand_points=600, txn="OM" + "2" * 30)

    assert balances(member) == (4000, 1000)


def test_reserve_refused_below_one_partner_point_or_without_url(partner_server):
    kit = make_partner(rate_out="10")
    member = make_member(available=5000)
    with pytest.raises(TooFewPointsError):
        reserve(kit, member, brand_points=9)
    services.update_partner(
        partner_id=kit.partner.pk,
        actor=ACTOR,
        name="Bank",
        outbound_url="",
        inbound_daily_limit=100,
        outbound_daily_limit=100,
        is_active=True,
    )

    with pytest.raises(PartnerUnavailableError):
        reserve(kit, member, brand_points=50)

    assert balances(member) == (5000, 0)


def test_dead_letter_releases_the_points(partner_server):
    _, reply = partner_server
    reply["status"] = 500
    kit = make_partner()
    member = make_member(available=2000)
    transfer = reserve(kit, member).transfer
    message = OutboxMessage.objects.get(topic="partner.points_transfer")
    OutboxMessage.objects.filter(pk=message.pk).update(max_attempts=1)

    outbox.deliver_due()
    failed = outbound.fail_stale_transfers()

    assert OutboxMessage.objects.get(pk=message.pk).state == OutboxState.DEAD
    assert failed == 1
    transfer.refresh_from_db()
    assert transfer.state == TransferState.FAILED
    assert transfer.failure == "delivery to the partner failed"
    assert balances(member) == (2000, 0)
    assert outbound.fail_stale_transfers() == 0
    assert ledger_mismatches() == []


def test_unconfirmed_transfer_is_released_after_the_confirm_hours(settings, partner_server):
    settings.PARTNER_CONFIRM_HOURS = 48
    kit = make_partner()
    member = make_member(available=2000)
    transfer = reserve(kit, member).transfer
    outbox.deliver_due()

    assert outbound.fail_stale_transfers(now=clock.now() + timedelta(hours=47)) == 0
    assert outbound.fail_stale_transfers(now=clock.now() + timedelta(hours=49)) == 1

    transfer.refresh_from_db()
    assert transfer.state == TransferState.FAILED
    assert balances(member) == (2000, 0)


def test_rotating_the_secret_re_signs_outbound_requests(partner_server):
    calls, _ = partner_server
    kit = make_partner()
    member = make_member(available=2000)
    _, new_secret = services.rotate_secret(partner_id=kit.partner.pk, actor=ACTOR)

    reserve(kit, member)
    outbox.deliver_due()

    header = calls[0]["headers"][outbox.SIGNATURE_HEADER]
    body = calls[0]["body"]
    assert outbox.verify(secret=signing.outbound_secret(new_secret), body=body, header=header)
    assert not outbox.verify(secret=signing.outbound_secret(kit.secret), body=body, header=header)
