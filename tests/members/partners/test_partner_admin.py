"""Back office: a partner is created with its secret shown once; rates are dated rows."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from omnimall.core.models import AuditEntry, WebhookSubscription
from omnimall.members.models import Partner, PartnerRate
from omnimall.members.partners import signing
from tests.members.partners.factories import ACTOR

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def partner_form(**changes: str) -> dict[str, str]:
    """The partner page's add form: China Merchants Bank with one inbound rate."""
    return {
        "code": "cmb",
        "name": "China Merchants Bank",
        "outbound_url": "https://bank.example/points",
        "inbound_daily_limit": "20000",
        "outbound_daily_limit": "10000",
        "rates-TOTAL_FORMS": "1",
        "rates-INITIAL_FORMS": "0",
        "rates-0-direction": "in",
        "rates-0-brand_points_per_partner_point": "0.2500",
        "rates-0-valid_from": "2026-01-01",
        **changes,
    }


def test_staff_create_a_partner_and_see_its_secret_once(admin_client):
    response = admin_client.post(
        "/admin/members/partner/add/",
        partner_form(),
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    partner = Partner.objects.get(code="cmb")
    shown = [str(m) for m in response.context["messages"]]
    secret = signing.decrypt_secret(partner.secret_encrypted)
    assert any(secret in text and partner.key_id in text for text in shown)
    assert partner.inbound_daily_limit == 20000
    rate = PartnerRate.objects.get(partner=partner)
    assert (rate.direction, rate.brand_points_per_partner_point, rate.valid_from) == (
        "in",
        Decimal("0.2500"),
        date(2026, 1, 1),
    )
    subscription = WebhookSubscription.objects.get(name="partner:cmb")
    assert subscription.url == "https://bank.example/points"
    assert subscription.secret == signing.outbound_secret(secret)
    assert not any(secret in str(entry.changes) for entry in AuditEntry.objects.all())
    change_page = admin_client.get(f"/admin/members/partner/{partner.pk}/change/")
    assert secret not in change_page.content.decode()


def test_staff_rotate_a_secret(admin_client):
    admin_client.post(
        "/admin/members/partner/add/",
        {
            "code": "air",
            "name": "Air",
            "outbound_url": "",
            "inbound_daily_limit": "1",
            "outbound_daily_limit": "1",
            "rates-TOTAL_FORMS": "0",
            "rates-INITIAL_FORMS": "0",
        },
    )
    partner = Partner.objects.get(code="air")
    before = signing.decrypt_secret(partner.secret_encrypted)

    response = admin_client.post(
        "/admin/members/partner/",
        {"action": "rotate_secrets", "_selected_action": [partner.pk]},
        follow=True,
    )

    partner.refresh_from_db()
    after = signing.decrypt_secret(partner.secret_encrypted)
    assert after != before
    assert any(after in str(m) for m in response.context["messages"])


def test_transfer_and_reconciliation_lists_open(admin_client):
    assert admin_client.get("/admin/members/partnertransfer/").status_code == 200
    assert admin_client.get("/admin/members/partnerreconciliation/").status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rates-0-brand_points_per_partner_point", "0", "greater than or equal to 0.0001"),
        ("outbound_url", "ftp://bank.example/points", "Enter a valid URL"),
    ],
)
def test_a_zero_rate_or_a_non_http_url_is_a_readable_form_error(
    admin_client, field, value, message
):
    data = partner_form(**{field: value})

    response = admin_client.post("/admin/members/partner/add/", data, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "partnerrate_gt_0" not in response.content.decode()
    assert not Partner.objects.exists()


def test_transfer_page_and_list_name_partner_member_and_hold_in_the_page_s_language(
    admin_client, settings
):
    from omnimall.members.partners import outbound
    from tests.members.partners.factories import make_member, make_partner

    settings.OUTBOX_DELIVER_ON_COMMIT = False
    kit = make_partner("cmb")
    member = make_member(available=2000)
    transfer = outbound.request_outbound_transfer(
        member_id=member.pk,
        partner_id=kit.partner.pk,
        brand_points=1000,
        transaction_id="OM" + "7" * 30,
        actor=ACTOR,
    ).transfer
    page_url = f"/admin/members/partnertransfer/{transfer.pk}/change/"

    page = admin_client.get(page_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    page_zh = admin_client.get(page_url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    listing_zh = admin_client.get(
        "/admin/members/partnertransfer/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()

    title = f"Cmb · brand → partner · {transfer.transaction_id}"
    breadcrumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', page, re.S)[1]
    assert title in breadcrumbs
    assert f"{kit.partner.pk} out " not in page  # the model's __str__
    assert "1000 · held" in page  # the hold, not "1000 held (partner:cmb:OM…)"
    assert "State last changed:" in page
    assert "Updated:" not in page
    for english in ("Partner:", "Member:", "Hold:"):
        assert english not in page_zh
    assert "合作伙伴:" in page_zh or "合作伙伴：" in page_zh
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', listing_zh)
    assert {"partner_name", "member_link"} <= set(headers)
    assert ">Partner<" not in listing_zh
    assert ">Member<" not in listing_zh
