"""The sandbox points partner (the demo's bank points mall): it books the shop's signed
outbound requests, answers them and sends points in through the shop's signed API, all
over real HTTP; it is off (404) unless enabled, and production refuses it."""

from __future__ import annotations

import json

import pytest

from omnimall.core import outbox
from omnimall.members.models import (
    PartnerTransfer,
    PointsEntry,
    SandboxPartnerRequest,
    TransferState,
)
from omnimall.members.partners import outbound, sandbox, signing
from tests.members.partners.factories import ACTOR, make_member

pytestmark = pytest.mark.django_db
RECEIVE = "/sandbox/partner/requests"
CONSOLE = "/sandbox/partner/"


@pytest.fixture
def partner(settings):
    settings.LANGUAGE_CODE = "en"
    settings.SANDBOX_PARTNER_ENABLED = True
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    created = sandbox.ensure_partner(shop_url="http://testserver/", actor=ACTOR)
    assert created is not None
    return created


def request_body(transaction_id: str = "OM" + "a" * 30) -> bytes:
    data = {
        "transaction_id": transaction_id,
        "partner": sandbox.CODE,
        "member": {"card_number": "880012345678", "phone": "+8613800138000"},
        "partner_account": "SBR-1",
        "partner_points": 100,
        "brand_points": 1000,
        "rate": "10.0000",
        "confirm_url": f"/api/v1/partners/points-transfers/{transaction_id}/confirm",
    }
    return json.dumps({"id": "evt_1", "topic": "partner.points_transfer", "data": data}).encode()


def post_signed(client, partner, body: bytes, *, secret: str | None = None):
    secret = secret or signing.outbound_secret(signing.decrypt_secret(partner.secret_encrypted))
    header = outbox.signature_header(secret=secret, body=body)
    return client.post(
        RECEIVE,
        data=body,
        content_type="application/json",
        headers={outbox.SIGNATURE_HEADER: header},
    )


def test_ensure_partner_sets_up_once_and_follows_the_demo_address(partner):
    assert partner.outbound_url == "http://testserver/sandbox/partner/requests"
    assert sandbox.rates_today() == {"in": "0.5", "out": "10"}

    again = sandbox.ensure_partner(shop_url="http://127.0.0.1:8765/", actor=ACTOR)

    assert again is not None
    assert again.pk == partner.pk
    assert again.outbound_url == "http://127.0.0.1:8765/sandbox/partner/requests"
    assert again.rates.count() == 2


def test_a_signed_request_is_booked_once(client, partner):
    first = post_signed(client, partner, request_body())
    second = post_signed(client, partner, request_body())

    assert first.status_code == second.status_code == 200
    assert first.json() == {"received": "OM" + "a" * 30}
    row = SandboxPartnerRequest.objects.get()
    assert (row.member_card, row.partner_account, row.partner_points, row.brand_points) == (
        "880012345678",
        "SBR-1",
        100,
        1000,
    )


@pytest.mark.parametrize(
    ("body", "secret", "status", "code"),
    [
        (request_body(), "not-the-secret", 401, "signature_invalid"),
        (b'{"data": {"transaction_id": "x"}}', None, 400, "malformed_request"),
        (b"not json", None, 400, "malformed_request"),
    ],
)
def test_a_forged_or_malformed_request_is_refused_and_books_nothing(
    client, partner, body, secret, status, code
):
    response = post_signed(client, partner, body, secret=secret)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not SandboxPartnerRequest.objects.exists()


def test_off_the_console_and_the_endpoint_are_not_there(client, partner, settings):
    settings.SANDBOX_PARTNER_ENABLED = False

    assert client.get(CONSOLE).status_code == 404
    assert post_signed(client, partner, request_body()).status_code == 404
    assert sandbox.ensure_partner(shop_url="http://testserver/", actor=ACTOR) is None


def test_console_lists_requests_and_refuses_unknown_actions(client, partner):
    post_signed(client, partner, request_body())

    page = client.get(CONSOLE)
    unknown = client.post(CONSOLE, {"action": "explode"})
    missing = client.post(CONSOLE, {"action": "completed", "request": "999999"})
    bad_form = client.post(CONSOLE, {"action": "send", "phone": "", "partner_points": "-5"})

    assert page.status_code == 200
    assert "SBR-1" in page.content.decode()
    assert unknown.status_code == 400
    assert missing.status_code == 404
    assert bad_form.status_code == 200
    assert "Ensure this value is greater than or equal to 1" in bad_form.content.decode()


@pytest.mark.django_db(transaction=True)
def test_outbound_request_answered_over_http_commits_or_releases(live_server, settings):
    settings.SANDBOX_PARTNER_ENABLED = True
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    shop = f"{live_server.url}/"
    partner = sandbox.ensure_partner(shop_url=shop, actor=ACTOR)
    assert partner is not None
    member = make_member(available=5000)

    def reserve(points: int) -> PartnerTransfer:
        return outbound.request_outbound_transfer(
            member_id=member.pk,
            partner_id=partner.pk,
            brand_points=points,
            transaction_id=outbound.new_transaction_id(),
            actor=ACTOR,
        ).transfer

    credited, refused = reserve(1000), reserve(2000)
    assert outbox.deliver_due().delivered == 2  # to the sandbox partner, over HTTP
    booked = {row.transaction_id: row for row in SandboxPartnerRequest.objects.all()}

    yes = sandbox.answer_request(
        request_id=booked[credited.transaction_id].pk, answer="completed", shop_url=shop
    )
    no = sandbox.answer_request(
        request_id=booked[refused.transaction_id].pk, answer="failed", shop_url=shop
    )

    assert (yes.status, yes.body["state"]) == (200, "completed")
    assert (no.status, no.body["state"]) == (200, "failed")
    credited.refresh_from_db()
    refused.refresh_from_db()
    assert (credited.state, refused.state) == (TransferState.COMPLETED, TransferState.FAILED)
    assert credited.partner_reference.startswith("SBR-")
    member.refresh_from_db()
    assert member.points_available == 4000  # 1000 spent, 2000 given back
    booked_after = SandboxPartnerRequest.objects.get(transaction_id=credited.transaction_id)
    assert (booked_after.answer, booked_after.answer_status) == ("completed", 200)


@pytest.mark.django_db(transaction=True)
def test_points_sent_in_over_http_reach_the_member_once(live_server, settings):
    settings.SANDBOX_PARTNER_ENABLED = True
    shop = f"{live_server.url}/"
    sandbox.ensure_partner(shop_url=shop, actor=ACTOR)
    member = make_member()

    sent = sandbox.send_points_in(
        phone=member.phone, partner_points=3001, partner_account="SBR-9", shop_url=shop
    )
    unknown = sandbox.send_points_in(
        phone="+8613999999999", partner_points=10, partner_account="", shop_url=shop
    )

    assert (sent.status, sent.body["brand_points"]) == (201, 1500)  # floor(3001 × 0.5)
    assert (unknown.status, unknown.body["error"]["code"]) == (404, "member_not_found")
    member.refresh_from_db()
    assert member.points_available == 1500
    assert PointsEntry.objects.filter(member=member, kind="transfer_in").count() == 1


def test_production_refuses_the_sandbox_partner(settings):
    from omnimall import cli

    settings.SANDBOX_PARTNER_ENABLED = True

    assert any("OMNIMALL_SANDBOX_PARTNER=0" in p for p in cli.production_problems())
