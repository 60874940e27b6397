"""The sandbox gateway's payment page: pay, decline, abandon; the notification it queues."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from omnimall.core.models import OutboxMessage
from omnimall.payments.gateways import sandbox
from omnimall.payments.models import Payment, SandboxTrade
from tests.payments.factories import NOTIFY_URL, notify, start_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def started():
    return start_payment(amount="256.80")


def _return_url(started) -> str:
    return SandboxTrade.objects.get(trade_no=started.trade_no).return_url


def test_sandbox_page_shows_merchant_amount_subject_and_three_buttons_without_card_fields(
    client, started, settings
):
    response = client.get(started.payment_url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "256.80" in html
    assert settings.SANDBOX_APP_ID in html
    assert SandboxTrade.objects.get().subject in html
    assert "sandbox" in html.lower()
    assert re.findall(r'<button[^>]*value="(\w+)"', html) == ["pay", "decline", "abandon"]
    inputs = re.findall(r'<input[^>]*name="([^"]+)"', html)
    assert inputs == ["csrfmiddlewaretoken"]  # no card number, expiry or CVV field at all
    assert "no-cache" in response.headers["Cache-Control"]


def test_sandbox_pay_succeeds_once_queues_the_signed_notification_and_returns_to_the_shop(
    client, started
):
    response = client.post(started.payment_url, {"action": "pay"})
    again = client.post(started.payment_url, {"action": "pay"})

    assert response.status_code == 302
    assert response.headers["Location"] == _return_url(started)
    trade = SandboxTrade.objects.get()
    assert trade.status == "TRADE_SUCCESS"
    assert trade.paid_at is not None
    message = OutboxMessage.objects.get()
    assert message.kind == "gateway_notification"
    assert message.topic == "payment.notify"
    assert message.destination == NOTIFY_URL
    params = message.payload["params"]
    assert params["trade_status"] == "TRADE_SUCCESS"
    assert params["out_trade_no"] == started.out_trade_no
    assert sandbox.verify(params)
    assert again.status_code == 200  # a paid trade shows its status, not the buttons
    assert "TRADE_SUCCESS" in again.content.decode()
    assert "<button" not in again.content.decode()
    assert OutboxMessage.objects.count() == 1
    # The shop is paid only by the notification, never by the redirect:
    assert Payment.objects.get(pk=started.payment_id).state == "pending"
    assert notify(params).newly_captured
    assert Payment.objects.get(pk=started.payment_id).state == "paid"


def test_sandbox_decline_closes_the_trade_notifies_and_returns_with_declined(client, started):
    response = client.post(started.payment_url, {"action": "decline"})

    assert response.status_code == 302
    assert response.headers["Location"] == _return_url(started) + "&payment=declined"
    assert SandboxTrade.objects.get().status == "TRADE_CLOSED"
    params = OutboxMessage.objects.get().payload["params"]
    assert params["trade_status"] == "TRADE_CLOSED"
    assert notify(params).outcome == "accepted"
    assert Payment.objects.get(pk=started.payment_id).state == "failed"
    closed_page = client.get(started.payment_url).content.decode()
    assert "closed" in closed_page
    assert "<button" not in closed_page


def test_sandbox_abandon_changes_nothing_and_returns_with_abandoned(client, started):
    response = client.post(started.payment_url, {"action": "abandon"})

    assert response.status_code == 302
    assert response.headers["Location"] == _return_url(started) + "&payment=abandoned"
    assert SandboxTrade.objects.get().status == "WAIT_BUYER_PAY"
    assert not OutboxMessage.objects.exists()


def test_sandbox_page_refuses_a_post_without_the_csrf_token(started):
    response = Client(enforce_csrf_checks=True).post(started.payment_url, {"action": "pay"})

    assert response.status_code == 403
    assert SandboxTrade.objects.get().status == "WAIT_BUYER_PAY"


def test_sandbox_page_answers_400_for_an_unknown_action_and_404_for_an_unknown_trade(
    client, started
):
    bad = client.post(started.payment_url, {"action": "refund-me"})
    missing = client.get("/payments/sandbox/pay/2026000000000000/")

    assert bad.status_code == 400
    assert missing.status_code == 404
    assert SandboxTrade.objects.get().status == "WAIT_BUYER_PAY"
