"""Member centre: converting points to a partner from /account/member/exchange/."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from omnimall.members.models import PartnerTransfer, TransferState
from tests.members.partners.factories import make_member, make_partner

pytestmark = pytest.mark.django_db
PAGE = "/account/member/exchange/"


@pytest.fixture(autouse=True)
def _english_and_no_delivery(settings):
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def shopper(client):
    user = get_user_model().objects.create_user(
        username="m@example.com", email="m@example.com", password="x-Long-password-1"
    )
    client.force_login(user)
    return user


def form_token(html: str) -> str:
    match = re.search(r'name="transaction_id" value="(OM[0-9a-f]{30})"', html)
    assert match, html
    return match.group(1)


def test_exchange_page_needs_sign_in(client):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert "/account/login/" in response["Location"]


def test_exchange_page_asks_to_link_a_mobile_first(client, shopper):
    response = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "Link your mobile number" in response.content.decode()


def test_member_converts_points_and_a_double_submit_is_one_transfer(client, shopper):
    kit = make_partner(rate_out="10")
    member = make_member(available=3000, user_id=shopper.pk)
    page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Bank" in page
    assert "3000" in page
    form = {
        "partner": kit.partner.pk,
        "brand_points": "1234",
        "partner_account": "FF-2026-7781",
        "transaction_id": form_token(page),
    }

    first = client.post(PAGE, form, HTTP_ACCEPT_LANGUAGE="en")
    second = client.post(PAGE, form, HTTP_ACCEPT_LANGUAGE="en")

    assert first.status_code == second.status_code == 302
    transfer = PartnerTransfer.objects.get()
    assert (transfer.member_id, transfer.brand_points, transfer.partner_points) == (
        member.pk,
        1230,
        123,
    )
    assert transfer.state == TransferState.RESERVED
    member.refresh_from_db()
    assert (member.points_available, member.points_held) == (1770, 1230)
    after = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "transfer-reserved" in after
    assert transfer.partner_account == "FF-2026-7781"
    assert "…7781" in after  # the account's end only, as on a bank statement
    assert "FF-2026-7781" not in after


def test_member_is_told_when_points_are_short(client, shopper):
    kit = make_partner()
    make_member(available=100, user_id=shopper.pk)
    page = client.get(PAGE).content.decode()

    response = client.post(
        PAGE,
        {"partner": kit.partner.pk, "brand_points": "5000", "transaction_id": form_token(page)},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "You do not have that many points available." in response.content.decode()
    assert PartnerTransfer.objects.count() == 0


def test_quote_shows_what_the_partner_credits(client, shopper):
    kit = make_partner(rate_out="2.5")
    make_member(available=100, user_id=shopper.pk)

    response = client.get(
        f"{PAGE}quote/",
        {"partner": kit.partner.pk, "brand_points": "1001"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "1000 points become 400 Bank points." in " ".join(response.content.decode().split())
