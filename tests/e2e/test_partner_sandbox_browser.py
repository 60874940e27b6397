"""Points exchange with the demo's sandbox partner, end to end in a real browser.

The member converts points on the member centre's exchange page; the shop holds them and
its outbox sends the signed request to the sandbox partner over HTTP; on the partner's
console the bank credits the member, which confirms through the shop's signed partner
API; the exchange page then shows the conversion completed and the points spent. The
bank then sends points the other way from its console.
"""

from __future__ import annotations

import pytest

from omnimall.core.actors import Actor
from omnimall.members.models import Member, PartnerTransfer, TransferState
from omnimall.members.partners import sandbox
from omnimall.members.services.identity import enrol_member
from tests.e2e.shoppers import make_shopper, sign_in
from tests.members.test_points_factories import give_points

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
STAFF = Actor.system("e2e staff")
EMAIL = "lilei@example.com"
PASSWORD = "member-pw-2026!"
PHONE = "+8613800138222"


@pytest.fixture
def member(settings, live_server):
    settings.LANGUAGE_CODE = "en"
    settings.SANDBOX_PARTNER_ENABLED = True
    settings.OUTBOX_DELIVER_ON_COMMIT = True  # the request goes to the partner for real
    sandbox.ensure_partner(shop_url=f"{live_server.url}/", actor=STAFF)
    user = make_shopper(EMAIL, PASSWORD)
    member = enrol_member(phone=PHONE, actor=STAFF, name="Li Lei", user_id=user.pk)
    give_points(member, 5000, document="welcome", actor=STAFF)
    return member


def _available(member: Member) -> int:
    member.refresh_from_db()
    return member.points_available


def test_member_converts_points_and_the_sandbox_bank_credits_them(live_server, page, member):
    base = live_server.url
    sign_in(page, base, email=EMAIL, password=PASSWORD)

    page.goto(base + "/account/member/exchange/")
    page.fill("#id_brand_points", "1000")
    page.fill("#id_partner_account", "SBR-7781")
    page.locator(".exchange-form button[type=submit]").click()
    page.wait_for_load_state()
    assert "reserved" in page.locator(".exchange-transfers").inner_text()
    assert _available(member) == 4000  # held until the bank answers

    page.locator(".exchange-sandbox a").click()  # the demo's link to play the bank
    row = page.locator(".bank-table tbody tr").first
    assert "SBR-7781" in row.inner_text()
    row.locator("button[value=completed]").click()
    page.wait_for_load_state()
    assert "omnimall answered HTTP 200" in page.locator(".bank-reply").inner_text()
    assert "credited" in page.locator(".bank-table tbody tr").first.inner_text()

    page.fill("#id_phone", "13800138222")
    page.fill("#id_partner_points", "3000")
    page.locator("button[value=send]").click()
    page.wait_for_load_state()
    assert "3000 bank points → 1500 omnimall points" in page.locator(".bank-reply").inner_text()

    page.goto(base + "/account/member/exchange/")
    history = page.locator(".exchange-transfers").inner_text()
    assert "completed" in history
    assert "reserved" not in history
    assert _available(member) == 5500  # 5000 − 1000 sent out + 1500 received
    states = sorted(PartnerTransfer.objects.values_list("direction", "state"))
    assert states == [("in", TransferState.COMPLETED), ("out", TransferState.COMPLETED)]
