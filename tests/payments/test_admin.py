"""The payments back office: read-only lists; rejected notifications are the default view."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from omnimall.payments.gateways import sandbox
from omnimall.payments.models import NotificationLog, Payment, Refund, SandboxTrade
from tests.payments.factories import STAFF, notify, paid_payment, resign

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid():
    payment = paid_payment("88.00")
    from decimal import Decimal

    from omnimall.payments import services as payments

    payments.refund_payment(
        order_id=payment.order_id,
        amount=Decimal("8.00"),
        reason="late",
        refund_no="R-adm",
        actor=STAFF,
    )
    notify(resign(sandbox.notification_for(payment.out_trade_no), total_amount="1.00"))
    return payment


@pytest.mark.parametrize(
    "model", ["payment", "notificationlog", "refund", "sandboxtrade", "sandboxrefund"]
)
def test_payments_admin_lists_rows_and_allows_no_add_when_staff_opens_it(admin_client, paid, model):
    listing = admin_client.get(reverse(f"admin:payments_{model}_changelist"))
    add = admin_client.get(reverse(f"admin:payments_{model}_add"))

    assert listing.status_code == 200
    assert add.status_code == 403


def test_payment_admin_shows_the_ledger_and_refunds_read_only(admin_client, paid):
    response = admin_client.get(reverse("admin:payments_payment_change", args=[paid.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert paid.trade_no in html
    assert "R-adm" in html
    assert "-8.00" in html
    assert 'name="_save"' not in html


def test_payment_admin_finds_a_payment_by_order_number_or_trade_number(admin_client, paid):
    url = reverse("admin:payments_payment_changelist")

    by_order = admin_client.get(url, {"q": paid.order.number}).content.decode()
    by_trade = admin_client.get(url, {"q": paid.trade_no}).content.decode()

    assert paid.out_trade_no in by_order
    assert paid.out_trade_no in by_trade


def test_notification_admin_shows_rejected_first_and_all_on_request(admin_client, paid):
    url = reverse("admin:payments_notificationlog_changelist")

    default = admin_client.get(url).content.decode()
    everything = admin_client.get(url, {"outcome": "all"}).content.decode()

    assert default.count('class="field-reason"') == 1
    assert "wrong_amount" in default
    assert everything.count('class="field-reason"') == 2
    assert "captured" in everything
    log = NotificationLog.objects.get(outcome="rejected")
    detail = admin_client.get(reverse("admin:payments_notificationlog_change", args=[log.pk]))
    assert detail.status_code == 200
    assert "total_amount" in detail.content.decode()


def test_payments_admin_refuses_deleting_ledger_rows(admin_client, paid):
    for model, row in (
        ("payment", paid),
        ("refund", Refund.objects.get()),
        ("sandboxtrade", SandboxTrade.objects.get()),
    ):
        response = admin_client.get(reverse(f"admin:payments_{model}_delete", args=[row.pk]))
        assert response.status_code == 403
    assert Payment.objects.count() == 1


def test_payment_admin_labels_its_timestamp_as_the_state_change_not_a_bare_updated(
    admin_client, paid
):
    response = admin_client.get(
        reverse("admin:payments_payment_change", args=[paid.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    html = response.content.decode()
    shown = re.search(r'field-state_changed_at.*?<div class="readonly">(.*?)</div>', html, re.S)[1]
    assert "State last changed:" in html
    assert "Updated:" not in html
    assert "+00:00" not in shown  # the shop's time, formatted like the other dates
    assert shown == formats.localize(timezone.localtime(paid.updated_at))


def test_refund_list_names_and_links_its_payment_in_chinese_too(admin_client, paid):
    listing = admin_client.get(
        reverse("admin:payments_refund_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()

    header = re.search(r'column-payment_link">.*?<a [^>]*>([^<]+)</a>', listing, re.S)[1]
    assert header.strip() == "支付"
    payment_url = reverse("admin:payments_payment_change", args=[paid.pk])
    assert f'<a href="{payment_url}">{paid.out_trade_no}</a>' in listing
