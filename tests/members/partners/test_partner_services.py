"""Nonce purge and member merges."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from omnimall.core import clock
from omnimall.members.models import PartnerNonce, PartnerTransfer
from omnimall.members.partners import services, transfers
from omnimall.members.partners.errors import PartnerSetupError
from tests.members.partners.factories import ACTOR, make_member, make_partner

pytestmark = pytest.mark.django_db


def test_purge_nonces_forgets_only_those_past_twice_the_window(settings):
    settings.PARTNER_SIGNATURE_WINDOW_SECONDS = 300
    kit = make_partner()
    old = PartnerNonce.objects.create(partner=kit.partner, nonce="o" * 16)
    recent = PartnerNonce.objects.create(partner=kit.partner, nonce="r" * 16)
    PartnerNonce.objects.filter(pk=old.pk).update(seen_at=clock.now() - timedelta(seconds=601))
    PartnerNonce.objects.filter(pk=recent.pk).update(seen_at=clock.now() - timedelta(seconds=599))

    assert services.purge_nonces() == 1

    assert list(PartnerNonce.objects.values_list("pk", flat=True)) == [recent.pk]


def test_reassign_member_moves_transfers_to_the_survivor():
    kit = make_partner()
    duplicate = make_member()
    survivor = make_member()
    transfers.receive_transfer(
        partner=kit.partner,
        transaction_id="T-1",
        phone="",
        card=duplicate.card_number,
        partner_points=10,
        actor=ACTOR,
    )

    with transaction.atomic():
        services.reassign_member(from_member_id=duplicate.pk, to_member_id=survivor.pk)

    assert PartnerTransfer.objects.get().member_id == survivor.pk


def test_partner_codes_are_unique():
    make_partner("bank")

    with pytest.raises(PartnerSetupError):
        services.create_partner(code="BANK", name="again", actor=ACTOR)
