"""Payments tests sign with their own sandbox key (one per test session and worker)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sandbox_key_file(tmp_path_factory):
    return tmp_path_factory.mktemp("sandbox-key") / "keys" / "sandbox-gateway-key.pem"


@pytest.fixture(autouse=True)
def _sandbox_settings(settings, sandbox_key_file):
    settings.SANDBOX_KEY_FILE = sandbox_key_file
    settings.SANDBOX_APP_ID = "2026112700000001"
    settings.SANDBOX_SELLER_ID = "2088000000000001"
    settings.OUTBOX_DELIVER_ON_COMMIT = False
