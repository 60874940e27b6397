"""The storefront member centre: linking by code, the card, balances, history, preferences."""

from __future__ import annotations

import os
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from omnimall.core import clock, sms
from omnimall.core.actors import Actor
from omnimall.members.models import Member
from omnimall.members.selectors.members import member_for_user
from omnimall.members.services.identity import enrol_member
from omnimall.members.services.purchases import record_purchase
from tests.inventory.factories import make_location

ACTOR = Actor.system("centre-tests")
CENTRE = "/account/member/"
SCREENSHOTS = os.environ.get("OMNIMALL_TEST_SCREENSHOTS", "")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_and_locmem_sms(settings):
    settings.LANGUAGE_CODE = "en"
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def shopper(django_user_model):
    return django_user_model.objects.create_user(
        username="centre@x.cn", email="centre@x.cn", first_name="Han", password="x"
    )


@pytest.fixture
def signed_in(client, shopper):
    client.force_login(shopper)
    return client


def _get(client, path=CENTRE):
    return client.get(path, HTTP_ACCEPT_LANGUAGE="en")


def test_member_centre_needs_a_signed_in_shopper(client):
    response = client.get(CENTRE)

    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


def test_member_centre_offers_to_link_a_phone_when_there_is_no_membership(signed_in):
    response = _get(signed_in)

    assert response.status_code == 200
    assert b"Join or link your membership" in response.content
    assert b"Send me a code" in response.content
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )


def test_linking_by_code_from_the_text_message(
    signed_in, shopper, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = signed_in.post(reverse("members:link_start"), {"phone": "135 0013 5000"})
    assert sent.status_code == 302
    page = _get(signed_in)
    assert b"+86 135****5000" in page.content
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)

    linked = signed_in.post(
        reverse("members:link_confirm"), {"phone": "+8613500135000", "code": code}
    )

    assert linked.status_code == 302
    member = member_for_user(shopper.pk)
    assert member is not None
    assert member.phone == "+8613500135000"
    page = _get(signed_in)
    assert member.card_number[:4].encode() in page.content
    assert b"Your membership is linked to this account." in page.content


def test_a_wrong_code_is_shown_on_the_form(signed_in, shopper, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("members:link_start"), {"phone": "13500135001"})
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)
    wrong = f"{(int(code) + 1) % 1000000:06d}"

    response = signed_in.post(
        reverse("members:link_confirm"),
        {"phone": "+8613500135001", "code": wrong},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 422
    assert b"That code is not right" in response.content
    assert member_for_user(shopper.pk) is None


def test_an_invalid_phone_is_refused_on_the_form(signed_in):
    response = signed_in.post(
        reverse("members:link_start"), {"phone": "12345"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 422
    assert b"Enter a mobile number" in response.content
    assert sms.outbox == []


@pytest.fixture
def member(shopper):
    store = make_location("s-centre", kind="store", name_en="Jing'an store")
    member = enrol_member(
        phone="13500135009", actor=ACTOR, name="Han Meimei", user_id=shopper.pk,
        joined_store_id=store.pk,
    )  # fmt: skip
    record_purchase(
        member_id=member.pk, channel="store", store_id=store.pk, document="R-1",
        source_key="t:centre:r1", amount=Decimal("4750.00"), occurred_at=clock.now(), actor=ACTOR,
    )  # fmt: skip
    from omnimall.members.services.points import earn_points

    earn_points(member_id=member.pk, points=1200, source_key="t:centre:earn", document="R-1",
                actor=ACTOR, pending=False)  # fmt: skip
    earn_points(member_id=member.pk, points=80, source_key="t:centre:pending",
                document="261127000001", actor=ACTOR, pending=True)  # fmt: skip
    return Member.objects.get(pk=member.pk)


def test_member_centre_shows_card_tier_progress_balances_and_history(signed_in, member):
    response = _get(signed_in)

    html = response.content.decode()
    assert response.status_code == 200
    assert " ".join(member.card_number[i : i + 4] for i in (0, 4, 8)) in html
    assert 'id="member-tier">Silver<' in html
    assert 'aria-valuenow="25"' in html
    assert "Spend ¥5,250 more" in html
    assert 'id="points-available">1200<' in html
    assert 'id="points-pending">80<' in html
    assert 'id="points-held">0<' in html
    assert "+1200" in html
    assert "261127000001" in html
    assert reverse("members:card_barcode") in html
    assert reverse("members:card_qr") in html


def test_card_barcode_and_qr_are_svg_of_the_own_card_only(signed_in, member, client):
    barcode = signed_in.get(reverse("members:card_barcode"))
    qr = signed_in.get(reverse("members:card_qr"))

    assert barcode.status_code == 200
    assert barcode["Content-Type"] == "image/svg+xml"
    assert b"<svg" in barcode.content
    assert member.card_number.encode() in barcode.content  # the human-readable line
    assert qr.status_code == 200
    assert b"<svg" in qr.content


def test_card_images_are_404_without_a_membership(signed_in):
    assert signed_in.get(reverse("members:card_barcode")).status_code == 404


def test_preferences_save_consent_and_home_store(signed_in, member):
    store = make_location("s-home-2", kind="store", name_en="Xuhui store")

    response = signed_in.post(
        reverse("members:preferences"),
        {"consent_sms": "on", "consent_wechat": "on", "home_store": str(store.pk)},
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.consent_sms, member.consent_email, member.consent_wechat) == (True, False, True)
    assert member.home_store_id == store.pk


@pytest.mark.parametrize(
    ("lang", "label"), [("en", "Xuhui store · Shanghai"), ("zh-CN", "徐汇店 · 上海")]
)
def test_home_store_menu_names_store_and_city_in_the_pages_language(signed_in, member, lang, label):
    make_location("s-home-3", kind="store", name_en="Xuhui store", name_zh="徐汇店")

    response = signed_in.get(CENTRE, HTTP_ACCEPT_LANGUAGE=lang)

    assert f">{label}</option>" in response.content.decode()


def test_preferences_refuse_a_warehouse_as_home_store(signed_in, member):
    warehouse = make_location("w-x", kind="warehouse")

    response = signed_in.post(reverse("members:preferences"), {"home_store": str(warehouse.pk)})

    assert response.status_code == 422
    member.refresh_from_db()
    assert member.home_store_id != warehouse.pk


def test_member_centre_reads_in_few_queries(signed_in, member, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert _get(signed_in).status_code == 200


def test_load_demo_members_links_the_demo_shopper_and_runs_twice_the_same(django_user_model):
    from django.core.management import call_command

    from omnimall.members.models import MemberPurchase, PointsEntry

    make_location("sh-nanjing-road", kind="store")
    shopper = django_user_model.objects.create_user(
        username="shopper@omnimall.local", email="shopper@omnimall.local", password="x"
    )

    call_command("load_demo_members", verbosity=0)
    counts = (Member.objects.count(), MemberPurchase.objects.count(), PointsEntry.objects.count())
    call_command("load_demo_members", verbosity=0)

    assert counts == (
        Member.objects.count(), MemberPurchase.objects.count(), PointsEntry.objects.count()
    )  # fmt: skip
    assert counts[0] == 5
    member = member_for_user(shopper.pk)
    assert member is not None
    assert member.phone == "+8613800138000"
    assert member.home_store.code == "sh-nanjing-road"
    assert member.tier.code == "silver"
    assert member.points_available > 0
    assert member.points_pending > 0
    assert Member.objects.get(phone="+8613900139001").tier.code == "gold"


# --- in a real browser ------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_browser_shopper_links_phone_with_the_texted_code_and_sees_card_and_points(
    live_server, page, settings, tmp_path, django_user_model
):
    import time

    from omnimall.members.services.points import earn_points

    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    password = "quiet-harbour-1987"
    django_user_model.objects.create_user(
        username="lin@example.com", email="lin@example.com", first_name="Lin", password=password
    )
    store = make_location("sh-e2e", kind="store", name_en="Shanghai E2E")
    till = enrol_member(phone="+8613800138000", actor=ACTOR, joined_store_id=store.pk)
    record_purchase(member_id=till.pk, channel="store", store_id=store.pk, document="R-E2E-1",
                    source_key="t:e2e:r1", amount=Decimal("3600.00"), occurred_at=clock.now(),
                    actor=ACTOR)  # fmt: skip
    earn_points(member_id=till.pk, points=4500, source_key="t:e2e:earn", document="R-E2E-1",
                actor=ACTOR, pending=False)  # fmt: skip

    page.goto(live_server.url + "/account/login/?next=/account/member/")
    page.fill("#id_username", "lin@example.com")
    page.fill("#id_password", password)
    page.locator("button", has_text="Sign in").click()
    page.wait_for_url(re.compile(r"/account/member/$"))
    assert "JOIN OR LINK" in page.locator(".account-main").inner_text().upper()

    page.fill("#id_phone", "138 0013 8000")
    page.locator("button", has_text="Send me a code").click()
    page.wait_for_selector("#id_code")
    assert "+86 138****8000" in page.locator(".member-code-form").inner_text()
    deadline = time.monotonic() + 5
    while not list((tmp_path / "sms").glob("*.txt")) and time.monotonic() < deadline:
        time.sleep(0.05)
    (message,) = (tmp_path / "sms").glob("*.txt")
    code = re.search(r"\b(\d{6})\b", message.read_text()).group(1)
    page.fill("#id_code", code)
    page.locator("button", has_text="Link my membership").click()

    page.wait_for_selector("#member-card-number")
    assert page.locator("#member-card-number").inner_text().replace(" ", "") == till.card_number
    assert page.locator("#member-tier").text_content() == "Silver"
    assert page.locator("#points-available").inner_text() == "4500"
    assert page.locator("#points-pending").inner_text() == "0"
    assert page.locator(".tier-bar").get_attribute("aria-valuenow") == "8"
    assert "R-E2E-1" in page.locator(".points-table").inner_text()
    for image in (".member-barcode", ".member-qr"):
        # Wait for the image to arrive (on a loaded machine it may still be loading when
        # the text above is there); a broken image never completes with a width.
        page.wait_for_function(
            "sel => { const i = document.querySelector(sel); return i && i.complete; }",
            arg=image,
        )
        width = page.locator(image).evaluate("img => img.naturalWidth")
        assert width > 50, image
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/member-centre.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 800})  # a phone: the amounts still show
    assert page.locator(".points-table th", has_text="Available").is_visible()
    assert page.locator(".points-table td.num", has_text="+4500").first.is_visible()


def test_the_account_pages_link_to_the_member_centre(signed_in):
    body = _get(signed_in, "/account/").content.decode()

    assert body.count(f'href="{CENTRE}"') == 2  # the account menu and the overview panel
