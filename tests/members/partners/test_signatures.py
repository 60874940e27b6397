"""Signed partner requests: every forged or replayed call is refused (401) with nothing
changed — no transfer, no points, no nonce burnt."""

from __future__ import annotations

import time

import pytest

from omnimall.members.models import PartnerNonce, PartnerTransfer, PointsEntry
from omnimall.members.partners import signing
from tests.members.partners.factories import TRANSFERS, make_member, make_partner, signed

pytestmark = pytest.mark.django_db

WINDOW = 300


def state() -> tuple[int, int, int]:
    return (
        PartnerTransfer.objects.count(),
        PointsEntry.objects.count(),
        PartnerNonce.objects.count(),
    )


def body(member, txn: str = "T-1", partner_points: int = 100) -> dict:
    return {
        "transaction_id": txn,
        "member": {"card": member.card_number},
        "partner_points": partner_points,
    }


def _bad_signature(client, kit, member):
    return signed(client, kit, "POST", TRANSFERS, body(member), secret="not-the-secret")


def _old_timestamp(client, kit, member):
    return signed(client, kit, "POST", TRANSFERS, body(member), timestamp=int(time.time()) - 301)


def _future_timestamp(client, kit, member):
    # 30 s past the window, not 1: on a loaded machine more than a second can pass between
    # signing and the server's check, and a future stamp comes closer to the window as it
    # does (CI once accepted +301 s).
    return signed(client, kit, "POST", TRANSFERS, body(member), timestamp=int(time.time()) + 330)


def _unknown_key(client, kit, member):
    return signed(client, kit, "POST", TRANSFERS, body(member), key_id="pk_0000000000000000")


def _tampered_body(client, kit, member):
    signed_for = body(member, partner_points=1)
    import json

    return signed(
        client,
        kit,
        "POST",
        TRANSFERS,
        body(member, partner_points=100_000),
        sign_body=json.dumps(signed_for).encode(),
    )


def _other_path(client, kit, member):
    return signed(
        client, kit, "POST", TRANSFERS, body(member), sign_path=f"{TRANSFERS}/T-1/confirm"
    )


def _no_signature(client, kit, member):
    return signed(client, kit, "POST", TRANSFERS, body(member), drop=(signing.SIGNATURE_HEADER,))


def _no_key(client, kit, member):
    return signed(client, kit, "POST", TRANSFERS, body(member), drop=(signing.KEY_HEADER,))


def _short_nonce(client, kit, member):
    return signed(client, kit, "POST", TRANSFERS, body(member), nonce="too-short")


def _not_json_but_unsigned(client, kit, member):
    return signed(client, kit, "POST", TRANSFERS, body=b"{not json", secret="wrong")


REFUSALS = [
    (_bad_signature, "signature_invalid"),
    (_old_timestamp, "timestamp_out_of_window"),
    (_future_timestamp, "timestamp_out_of_window"),
    (_unknown_key, "signature_invalid"),
    (_tampered_body, "signature_invalid"),
    (_other_path, "signature_invalid"),
    (_no_signature, "signature_invalid"),
    (_no_key, "signature_invalid"),
    (_short_nonce, "signature_invalid"),
    (_not_json_but_unsigned, "signature_invalid"),
]


@pytest.mark.parametrize(("send", "code"), REFUSALS, ids=[f.__name__[1:] for f, _ in REFUSALS])
def test_partner_call_is_refused_with_nothing_changed_when_forged(client, send, code):
    kit = make_partner()
    member = make_member()
    before = state()

    response = send(client, kit, member)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert state() == before
    member.refresh_from_db()
    assert member.points_available == 0


def test_partner_call_is_refused_with_nothing_changed_when_nonce_reused(client):
    kit = make_partner()
    member = make_member()
    first = signed(client, kit, "POST", TRANSFERS, body(member, "T-1"), nonce="n" * 32)
    assert first.status_code == 201
    before = state()

    again = signed(client, kit, "POST", TRANSFERS, body(member, "T-2"), nonce="n" * 32)

    assert again.status_code == 401
    assert again.json()["error"]["code"] == "nonce_reused"
    assert state() == before
    member.refresh_from_db()
    assert member.points_available == 50


def test_replaying_the_exact_captured_request_is_refused(client):
    kit = make_partner()
    member = make_member()
    stamp = int(time.time())
    first = signed(client, kit, "POST", TRANSFERS, body(member), nonce="r" * 20, timestamp=stamp)
    assert first.status_code == 201
    before = state()

    replay = signed(client, kit, "POST", TRANSFERS, body(member), nonce="r" * 20, timestamp=stamp)

    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "nonce_reused"
    assert state() == before


def test_refused_request_does_not_burn_its_nonce_when_timestamp_was_stale(client):
    kit = make_partner()
    member = make_member()
    stale = signed(
        client,
        kit,
        "POST",
        TRANSFERS,
        body(member),
        nonce="s" * 24,
        timestamp=int(time.time()) - 400,
    )
    assert stale.status_code == 401

    fresh = signed(client, kit, "POST", TRANSFERS, body(member), nonce="s" * 24)

    assert fresh.status_code == 201


def test_nonce_is_burnt_when_a_signed_request_is_refused_by_the_service(client):
    kit = make_partner()
    member = make_member()
    refused = signed(
        client, kit, "POST", TRANSFERS, body(member, partner_points=1), nonce="d" * 20
    )  # 1 × 0.5 → 0 brand points
    assert refused.status_code == 422

    replay = signed(client, kit, "POST", TRANSFERS, body(member, partner_points=1), nonce="d" * 20)

    assert replay.json()["error"]["code"] == "nonce_reused"


def test_inactive_partner_is_refused(client):
    kit = make_partner()
    kit.partner.is_active = False
    kit.partner.save(update_fields=["is_active"])
    member = make_member()

    response = signed(client, kit, "POST", TRANSFERS, body(member))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "partner_inactive"
    assert PartnerTransfer.objects.count() == 0


def test_signature_window_follows_the_setting(client, settings):
    settings.PARTNER_SIGNATURE_WINDOW_SECONDS = 30
    kit = make_partner()
    member = make_member()

    response = signed(client, kit, "POST", TRANSFERS, body(member), timestamp=int(time.time()) - 60)

    assert response.json()["error"]["code"] == "timestamp_out_of_window"


def test_secret_is_stored_encrypted_and_decrypts():
    kit = make_partner()

    assert kit.secret not in kit.partner.secret_encrypted
    assert signing.decrypt_secret(kit.partner.secret_encrypted) == kit.secret


def test_secret_still_decrypts_after_secret_key_rotation(settings):
    kit = make_partner()
    old = settings.SECRET_KEY

    settings.SECRET_KEY = "a-new-secret-key-for-this-test-0123456789"
    settings.SECRET_KEY_FALLBACKS = [old]

    assert signing.decrypt_secret(kit.partner.secret_encrypted) == kit.secret


def test_secret_does_not_decrypt_under_another_secret_key(settings):
    kit = make_partner()
    settings.SECRET_KEY = "another-secret-key-entirely-0123456789"
    settings.SECRET_KEY_FALLBACKS = []

    with pytest.raises(signing.SecretUnreadableError):
        signing.decrypt_secret(kit.partner.secret_encrypted)


def test_canonical_string_is_the_documented_one():
    text = signing.canonical_string(
        method="post", path="/p?x=1", timestamp="1700000000", nonce="abc", body=b"{}"
    )

    assert text == (
        "POST\n/p?x=1\n1700000000\nabc\n"
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )


def test_window_is_symmetric():
    assert signing.within_window(timestamp="1000", window_seconds=WINDOW, now=1300)
    assert signing.within_window(timestamp="1300", window_seconds=WINDOW, now=1000)
    assert not signing.within_window(timestamp="999", window_seconds=WINDOW, now=1300)
    assert not signing.within_window(timestamp="1301", window_seconds=WINDOW, now=1000)
    assert not signing.within_window(timestamp="-5", window_seconds=WINDOW, now=1000)
