"""Races: partner retries, nonce replays and the daily limit under concurrent calls."""

from __future__ import annotations

import pytest
from django.test import Client

from omnimall.members.models import PartnerNonce, PartnerTransfer, PointsEntry
from omnimall.members.selectors.points import ledger_mismatches
from tests.members.partners.factories import TRANSFERS, make_member, make_partner, signed
from tests.races import run_together

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def ask(member, txn: str, partner_points: int = 1000) -> dict:
    return {
        "transaction_id": txn,
        "member": {"card": member.card_number},
        "partner_points": partner_points,
    }


def test_same_transfer_sent_10_times_at_once_posts_once(race_database):
    kit = make_partner()
    member = make_member()

    replies = run_together(10, lambda i: signed(Client(), kit, "POST", TRANSFERS, ask(member, "T")))

    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [200] * 9 + [201]
    assert len({reply.content for reply in replies}) == 1
    assert PartnerTransfer.objects.count() == 1
    assert PointsEntry.objects.filter(member=member).count() == 1
    member.refresh_from_db()
    assert member.points_available == 500
    assert ledger_mismatches() == []


def test_one_nonce_sent_10_times_at_once_is_accepted_once(race_database):
    kit = make_partner()
    member = make_member()

    replies = run_together(
        10,
        lambda i: signed(Client(), kit, "POST", TRANSFERS, ask(member, f"T-{i}"), nonce="x" * 32),
    )

    codes = sorted(
        reply.json().get("error", {}).get("code", str(reply.status_code)) for reply in replies
    )
    assert codes == ["201"] + ["nonce_reused"] * 9
    assert PartnerNonce.objects.count() == 1
    assert PartnerTransfer.objects.count() == 1


def test_daily_limit_holds_when_8_transfers_race(race_database):
    kit = make_partner(inbound_daily_limit=1000)
    member = make_member()

    replies = run_together(
        8, lambda i: signed(Client(), kit, "POST", TRANSFERS, ask(member, f"T-{i}", 500))
    )

    statuses = sorted(reply.status_code for reply in replies)
    assert statuses == [201] * 4 + [409] * 4
    member.refresh_from_db()
    assert member.points_available == 1000
    assert ledger_mismatches() == []
