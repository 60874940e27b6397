"""Outbound over real HTTP: the outbox POSTs the signed request to a partner server
(a local HTTP server here), which checks the signature with the derived outbound secret
and answers; the partner then confirms through the signed API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from omnimall.core import outbox
from omnimall.members.models import TransferState
from omnimall.members.partners import outbound, signing
from tests.members.partners.factories import ACTOR, TRANSFERS, make_member, make_partner, signed

pytestmark = pytest.mark.django_db


class PartnerServer:
    def __init__(self) -> None:
        self.secret = ""
        self.received: list[dict] = []
        self.verified: list[bool] = []


@pytest.fixture
def partner_server() -> Iterator[tuple[PartnerServer, str]]:
    state = PartnerServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.verified.append(
                outbox.verify(
                    secret=signing.outbound_secret(state.secret),
                    body=body,
                    header=self.headers.get(outbox.SIGNATURE_HEADER, ""),
                )
            )
            state.received.append(json.loads(body))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_port}/omnimall/points"
    finally:
        server.shutdown()
        server.server_close()


def test_outbound_request_reaches_the_partner_signed_and_its_confirmation_commits(
    client, settings, partner_server
):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    state, url = partner_server
    kit = make_partner(outbound_url=url, rate_out="5")
    state.secret = kit.secret
    member = make_member(available=1000)
    transfer = outbound.request_outbound_transfer(
        member_id=member.pk,
        partner_id=kit.partner.pk,
        brand_points=500,
        transaction_id=outbound.new_transaction_id(),
        actor=ACTOR,
    ).transfer

    report = outbox.deliver_due()

    assert report.delivered == 1
    assert state.verified == [True]
    data = state.received[0]["data"]
    assert (data["transaction_id"], data["partner_points"]) == (transfer.transaction_id, 100)
    reply = signed(
        client,
        kit,
        "POST",
        f"{TRANSFERS}/{data['transaction_id']}/confirm",
        {"status": "completed", "partner_reference": "P-1"},
    )
    assert reply.status_code == 200
    transfer.refresh_from_db()
    assert transfer.state == TransferState.COMPLETED
    member.refresh_from_db()
    assert (member.points_available, member.points_held) == (500, 0)
