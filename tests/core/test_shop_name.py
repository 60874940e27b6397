"""The brand's name (``OMNIMALL_SHOP_NAME``, ``OMNIMALL_SHOP_NAME_ZH``) where the shop speaks
away from its pages: emails, text messages, the gateway's page, the back office, slips."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from omnimall.core import sms
from omnimall.core.models import OutboxMessage
from omnimall.core.shop import shop_name
from omnimall.members.services.identity import start_phone_verification
from omnimall.orders.services import messages
from omnimall.payments.models import SandboxTrade
from tests.orders.factories import make_paid_order, make_ready_pickup, request_ids
from tests.payments.factories import start_payment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lumen(settings):
    settings.SHOP_NAME = "Lumen Atelier"
    settings.SHOP_NAME_ZH = "流明"


def test_the_name_follows_the_language():
    with translation.override("en"):
        assert shop_name() == "Lumen Atelier"
    with translation.override("zh-hans"):
        assert shop_name() == "流明"
    assert shop_name("en") == "Lumen Atelier"


def test_order_emails_carry_the_shops_name_in_their_language(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    order = make_ready_pickup()
    OutboxMessage.objects.filter(kind="email").delete()

    with translation.override("en"):
        messages.email_shopper(order, template="paid", extra={})
    payload = OutboxMessage.objects.get(kind="email", topic="order.paid").payload

    assert payload["body"].rstrip().endswith("Lumen Atelier")
    assert re.search(r"<td[^>]*>Lumen Atelier</td>", payload["html"])  # the masthead
    assert "omnimall" not in (payload["body"] + payload["html"]).lower()


def test_the_password_reset_email_names_the_shop(client):
    get_user_model().objects.create_user(
        "reset@example.com", email="reset@example.com", password="old-pass-9931"
    )

    client.post(
        "/account/password-reset/", {"email": "reset@example.com"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    [email] = mail.outbox
    assert email.subject == "Reset your Lumen Atelier password"
    assert "your Lumen Atelier account" in email.body
    assert "omnimall" not in (email.body + email.alternatives[0][0]).lower()


def test_the_verification_text_message_starts_with_the_name(
    settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    user = get_user_model().objects.create_user("otp@x.cn", email="otp@x.cn", password="x")

    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        start_phone_verification(user=user, phone="13700137000")

    assert sms.outbox[-1].text.startswith("【流明】")


def test_the_gateways_page_shows_the_merchant_by_the_shops_name(client):
    started = start_payment(amount="88.00")

    html = client.get(started.payment_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert re.search(r"<dd>Lumen Atelier <small>", html)


def test_a_placed_orders_payment_is_described_by_the_shops_name():
    with translation.override("en"):
        order = make_paid_order()

    assert SandboxTrade.objects.get().subject == (f"Lumen Atelier {order.number}")


def test_the_back_office_and_its_printed_slips_carry_the_name():
    staff = get_user_model().objects.create_superuser("boss", password="pw")
    order = make_paid_order()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(staff)

    home = client.get(reverse("admin:index")).content.decode()
    slip = client.get(
        reverse("admin:inventory_fulfilmentrequest_packing_slip", args=request_ids(order)[:1])
    ).content.decode()

    assert "| Lumen Atelier back office</title>" in home
    assert '<p class="shop">Lumen Atelier</p>' in slip


def test_mail_is_sent_under_the_shops_name_by_default(settings):
    # Read from the environment at start-up: ``OMNIMALL_FROM_EMAIL`` without a display name.
    assert settings.DEFAULT_FROM_EMAIL == "omnimall <shop@omnimall.local>"
