"""RSA2 (SHA256withRSA, PKCS#1 v1.5) over Alipay's signing string; the sandbox's key file."""

from __future__ import annotations

import base64
import stat

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from omnimall.payments.domain import signing_string
from omnimall.payments.gateways import get_gateway, rsa2, sandbox
from omnimall.payments.gateways.sandbox import SandboxGateway
from tests.payments.factories import start_payment

PARAMS = {
    "trade_no": "2026112722001400000000000001",
    "app_id": "2026112700000001",
    "total_amount": "88.00",
    "out_trade_no": "7-0a1b2c3d4e5f",
    "buyer_logon_id": "",
    "sign_type": "RSA2",
}


def test_signing_string_sorts_keys_and_drops_sign_sign_type_and_empty_values():
    text = signing_string({**PARAMS, "sign": "abc"})

    assert text == (
        "app_id=2026112700000001&out_trade_no=7-0a1b2c3d4e5f&total_amount=88.00"
        "&trade_no=2026112722001400000000000001"
    )


def test_sign_verifies_with_the_public_key_as_sha256_with_rsa_pkcs1(settings):
    signature = sandbox.sign(PARAMS)

    public = rsa2.load_public_key(settings.SANDBOX_KEY_FILE)
    public.verify(
        base64.b64decode(signature),
        signing_string(PARAMS).encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )  # raises InvalidSignature if it were anything else
    assert SandboxGateway().verify_notification({**PARAMS, "sign": signature})


@pytest.mark.parametrize(
    "tamper",
    [
        {"total_amount": "0.01"},
        {"out_trade_no": "8-0a1b2c3d4e5f"},
        {"extra": "added"},
        {"buyer_logon_id": "now-not-empty"},
    ],
)
def test_verify_refuses_when_a_signed_parameter_is_changed_or_added(tamper):
    signed = {**PARAMS, "sign": sandbox.sign(PARAMS)}

    assert not sandbox.verify({**signed, **tamper})


def test_verify_ignores_sign_type_and_refuses_a_garbled_or_missing_signature():
    signature = sandbox.sign(PARAMS)

    assert sandbox.verify({**PARAMS, "sign_type": "RSA", "sign": signature})
    assert not sandbox.verify({**PARAMS, "sign": "not base64!"})
    assert not sandbox.verify({**PARAMS, "sign": base64.b64encode(b"x" * 256).decode()})
    assert not sandbox.verify(PARAMS)


def test_verify_refuses_a_signature_made_with_another_key(tmp_path):
    other = rsa2.load_private_key(tmp_path / "other.pem")

    forged = rsa2.sign(PARAMS, other)

    assert not sandbox.verify({**PARAMS, "sign": forged})


def test_key_file_is_created_once_with_mode_0600_in_a_new_directory(tmp_path):
    path = tmp_path / "new-dir" / "key.pem"

    key = rsa2.load_private_key(path)

    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key.key_size == 2048
    assert rsa2.load_private_key(path) is key  # cached per process
    assert "BEGIN PUBLIC KEY" in rsa2.public_key_pem(path)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left


def test_get_gateway_refuses_an_unknown_code():
    from omnimall.payments.errors import UnknownGatewayError

    with pytest.raises(UnknownGatewayError):
        get_gateway("paypal")
    assert get_gateway("sandbox").code == "sandbox"


@pytest.mark.django_db
def test_notification_for_builds_a_complete_signed_notification(settings):
    started = start_payment(amount="123.40")

    params = sandbox.notification_for(started.out_trade_no)

    assert params["out_trade_no"] == started.out_trade_no
    assert params["trade_no"] == started.trade_no
    assert params["total_amount"] == "123.40"
    assert params["trans_currency"] == "CNY"
    assert params["trade_status"] == "TRADE_SUCCESS"
    assert params["app_id"] == settings.SANDBOX_APP_ID
    assert params["seller_id"] == settings.SANDBOX_SELLER_ID
    assert params["notify_type"] == "trade_status_sync"
    assert {"notify_time", "notify_id", "charset", "version", "sign_type"} <= set(params)
    assert sandbox.verify(params)
