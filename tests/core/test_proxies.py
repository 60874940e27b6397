"""Behind reverse proxies the shop sees each shopper's own address and scheme.

The requests go through the WSGI application as ``omnimall.wsgi`` builds it (Django's
handler wrapped by ``core.proxies.behind_proxies``), sent by werkzeug's test client from
the proxy's address.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from werkzeug.test import Client

from omnimall.core.proxies import behind_proxies

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
PASSWORD = "pw-123456!"


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's own test client does: the handler would otherwise close the connection
    holding the test's transaction at the end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def lilei():
    return get_user_model().objects.create_user(
        username="lilei@example.com", email="lilei@example.com", password=PASSWORD
    )


def shop(proxies: int) -> Client:
    return Client(behind_proxies(WSGIHandler(), proxies))


def sign_in(app: Client, forwarded_for: str, email: str, password: str):
    return app.post(
        "/api/v1/account/tokens",
        data=json.dumps({"email": email, "password": password}),
        content_type="application/json",
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": PROXY},
    )


def fail_ten_times(app: Client, forwarded_for: str) -> None:
    for n in range(10):
        # a different address each time, so only the client address is counted ten times
        assert sign_in(app, forwarded_for, f"nobody{n}@example.com", "x").status_code == 401


def test_one_shoppers_failed_sign_ins_brake_that_shopper_not_the_whole_shop(lilei):
    app = shop(proxies=1)
    fail_ten_times(app, "203.0.113.7")

    braked = sign_in(app, "203.0.113.7", "lilei@example.com", PASSWORD)
    other = sign_in(app, "198.51.100.4", "lilei@example.com", PASSWORD)

    assert braked.status_code == 429
    assert other.status_code == 201


def test_without_the_setting_everyone_behind_the_proxy_is_one_address(lilei):
    app = shop(proxies=0)
    fail_ten_times(app, "203.0.113.7")

    assert sign_in(app, "198.51.100.4", "lilei@example.com", PASSWORD).status_code == 429


def test_addresses_a_client_writes_left_of_the_proxys_entry_are_ignored(lilei):
    app = shop(proxies=1)
    for n in range(10):  # a bot rotating a forged X-Forwarded-For of its own
        forged = f"192.0.2.{n}, 203.0.113.7"
        assert sign_in(app, forged, f"nobody{n}@example.com", "x").status_code == 401

    assert sign_in(app, "192.0.2.99, 203.0.113.7", "lilei@example.com", PASSWORD).status_code == 429
    assert sign_in(app, "198.51.100.4", "lilei@example.com", PASSWORD).status_code == 201


def test_two_proxies_the_client_is_the_second_entry_from_the_right(lilei):
    app = shop(proxies=2)
    # the shopper → load balancer (writes 203.0.113.7) → nginx (writes the balancer's address)
    fail_ten_times(app, "203.0.113.7, 10.0.0.1")

    assert sign_in(app, "203.0.113.7, 10.0.0.1", "lilei@example.com", PASSWORD).status_code == 429
    assert sign_in(app, "198.51.100.4, 10.0.0.1", "lilei@example.com", PASSWORD).status_code == 201


@pytest.mark.parametrize(("proxies", "scheme"), [(1, "https"), (0, "http")])
def test_the_proxys_scheme_is_the_shops_scheme_only_when_trusted(proxies, scheme):
    page = shop(proxies).get(
        "/",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"},
        environ_base={"REMOTE_ADDR": PROXY},
    )

    assert page.status_code == 200
    assert f'<link rel="canonical" href="{scheme}://localhost/">' in page.get_data(as_text=True)
