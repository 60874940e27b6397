"""Store referral links: remember the store, redirect only within the site, QR codes.

The shop includes ``omnimall.channels.urls`` at ""; this module's URLconf does the same.
"""

from __future__ import annotations

import pytest
from django.urls import include, path

from omnimall import urls as shop_urls
from omnimall.channels import referrals
from tests.inventory.factories import make_location

urlpatterns = [path("", include("omnimall.channels.urls")), *shop_urls.urlpatterns]

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def store(db):
    return make_location("sh-jingan", kind="store", city="Shanghai")


def test_referral_link_remembers_the_store_and_goes_home(client, store):
    reply = client.get("/s/SH-Jingan/")

    assert reply.status_code == 302
    assert reply["Location"] == "/"
    assert client.session[referrals.SESSION_KEY] == "sh-jingan"
    cookie = reply.cookies[referrals.COOKIE_NAME]
    assert cookie.value == "sh-jingan"
    assert int(cookie["max-age"]) == 30 * 24 * 3600
    assert "no-cache" in reply["Cache-Control"] or "max-age=0" in reply["Cache-Control"]


def test_referral_link_goes_to_a_safe_next_path(client, store):
    reply = client.get("/s/sh-jingan/", {"next": "/p/linen-shirt/?colour=blue"})

    assert reply.status_code == 302
    assert reply["Location"] == "/p/linen-shirt/?colour=blue"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example.com/",
        "//evil.example.com/",
        "/\\evil.example.com",
        "http://testserver.evil.example.com/",
        "javascript:alert(1)",
        "evil.example.com",
    ],
)
def test_referral_link_refuses_an_open_redirect(client, store, target):
    reply = client.get("/s/sh-jingan/", {"next": target})

    assert reply.status_code == 302
    assert reply["Location"] == "/"
    assert client.session[referrals.SESSION_KEY] == "sh-jingan"


@pytest.mark.parametrize("code", ["no-such-store", "wh-1", "sh-closed"])
def test_referral_link_of_an_unknown_warehouse_or_closed_location_remembers_nothing(
    client, db, code
):
    make_location("wh-1", kind="warehouse")
    make_location("sh-closed", kind="store", is_active=False)

    reply = client.get(f"/s/{code}/")

    assert reply.status_code == 302
    assert reply["Location"] == "/"
    assert referrals.SESSION_KEY not in client.session
    assert referrals.COOKIE_NAME not in reply.cookies


def test_referral_store_code_reads_the_session_then_the_cookie(client, store, rf):
    client.get("/s/sh-jingan/")
    request = rf.get("/")
    request.session = {}
    request.COOKIES[referrals.COOKIE_NAME] = client.cookies[referrals.COOKIE_NAME].value

    assert referrals.referral_store_code(request) == "sh-jingan"
    request.session = {referrals.SESSION_KEY: "sh-other"}
    assert referrals.referral_store_code(request) == "sh-other"
    request.COOKIES[referrals.COOKIE_NAME] = "<script>"
    request.session = {}
    assert referrals.referral_store_code(request) == ""


def test_referral_link_refuses_post(client, store):
    assert client.post("/s/sh-jingan/").status_code == 405


def test_referral_qr_code_is_an_svg_of_the_link(client, store, settings):
    pytest.importorskip("segno")
    settings.SITE_URL = "https://shop.example.com"

    reply = client.get("/s/sh-jingan/qr.svg")

    assert reply.status_code == 200
    assert reply["Content-Type"] == "image/svg+xml"
    body = reply.content.decode()
    assert body.lstrip().startswith(("<?xml", "<svg"))
    assert "https://shop.example.com/s/sh-jingan/" in body  # the SVG's title


def test_referral_qr_code_of_an_unknown_store_is_not_found(client, db):
    assert client.get("/s/nope/qr.svg").status_code == 404
