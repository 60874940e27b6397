"""The member 360 in the back office: search, the page, profile edits, notes, merges."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.core.models import AuditEntry
from omnimall.core.roles import CUSTOMER_SERVICE, STORE_STAFF
from omnimall.members.models import Member, MemberNote
from omnimall.members.services.identity import enrol_member
from omnimall.members.services.purchases import record_purchase
from tests.inventory.factories import make_location

ACTOR = Actor.system("admin-tests")
CHANGELIST = "/admin/members/member/"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def _staff(role: str, name: str) -> Client:
    user = get_user_model().objects.create_user(username=name, password="pw-123456!", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def member():
    store = make_location("s-360", kind="store", name_en="Nanjing Road")
    member = enrol_member(phone="13300133000", actor=ACTOR, name="Zhao Lei", email="z@x.cn",
                          joined_store_id=store.pk)  # fmt: skip
    record_purchase(member_id=member.pk, channel="store", store_id=store.pk, document="R-360",
                    source_key="t:360:r", amount=Decimal("3200.00"), occurred_at=clock.now(),
                    actor=ACTOR)  # fmt: skip
    from omnimall.members.services.points import earn_points

    earn_points(member_id=member.pk, points=3200, source_key="t:360:earn", document="R-360",
                actor=ACTOR, pending=False)  # fmt: skip
    return Member.objects.get(pk=member.pk)


def test_search_finds_a_member_by_phone_in_any_form_by_grouped_card_and_by_name(
    admin_client, member
):
    other = enrol_member(phone="13300133001", actor=ACTOR, name="Qian")
    card = member.card_number

    for term in ("133 0013 3000", "+8613300133000", f"{card[:4]} {card[4:8]} {card[8:]}", "Zhao"):
        body = admin_client.get(CHANGELIST, {"q": term}).content.decode()
        assert card in body, term
        assert other.card_number not in body, term


def test_member_360_page_shows_tier_points_orders_and_history(admin_client, member):
    page = admin_client.get(f"{CHANGELIST}{member.pk}/change/")

    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="member-360"' in body
    assert "Silver" in body
    assert "3200 available" in body
    assert "R-360" in body
    assert "Nanjing Road" in body
    assert 'id="member-points-history"' in body
    assert reverse("admin:members_member_merge", args=[member.pk]) in body
    tier_changes = body.split('id="member-tier-changes"', 1)[1].split("</div>", 1)[0]
    assert "<td>Standard</td><td>Silver</td>" in tier_changes
    assert "3200.00" in tier_changes


def test_profile_edit_goes_through_the_service_with_an_audit_entry(admin_client, member):
    store = make_location("s-360-b", kind="store")

    response = admin_client.post(
        f"{CHANGELIST}{member.pk}/change/",
        {"name": "Zhao Lei", "email": "new@x.cn", "home_store": str(store.pk),
         "consent_email": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email == "new@x.cn"
    assert member.home_store_id == store.pk
    assert member.consent_email is True
    assert member.points_available == 3200
    assert AuditEntry.objects.filter(action="member.changed", subject_id=str(member.pk)).exists()


def test_staff_enrol_a_member_by_phone_and_a_known_phone_opens_the_member(admin_client, member):
    response = admin_client.post(f"{CHANGELIST}add/", {"phone": "133 0013 3002", "name": "New"})
    again = admin_client.post(f"{CHANGELIST}add/", {"phone": "13300133000", "name": "X"})

    assert response.status_code == 302
    created = Member.objects.get(phone="+8613300133002")
    assert created.tier.code == "standard"
    assert again.status_code == 302
    assert Member.objects.count() == 2


def test_customer_service_adds_a_note_and_merges_a_duplicate(member):
    client = _staff(CUSTOMER_SERVICE, "cs")
    duplicate = enrol_member(phone="13300133009", actor=ACTOR, name="Zhao L.")

    noted = client.post(
        reverse("admin:members_member_note", args=[member.pk]), {"text": "Asked about Gold"}
    )
    merged = client.post(
        reverse("admin:members_member_merge", args=[member.pk]),
        {"duplicate": "133 0013 3009", "reason": "Same person, two phones", "apply": "1"},
    )

    assert noted.status_code == 302
    assert MemberNote.objects.get().author_label == "cs"
    assert merged.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == member.pk
    assert not duplicate.is_active
    page = client.get(f"{CHANGELIST}{member.pk}/change/").content.decode()
    assert "Asked about Gold" in page
    assert duplicate.card_number in page


def _grouped(card: str) -> str:
    return f"{card[:4]} {card[4:8]} {card[8:]}"


def test_merge_message_says_what_went_into_what_and_how_many_points_moved(member):
    from omnimall.members.services.points import earn_points

    client = _staff(CUSTOMER_SERVICE, "cs")
    duplicate = enrol_member(phone="13300133009", actor=ACTOR, name="Zhao L.")
    earn_points(member_id=duplicate.pk, points=150, source_key="t:dup:earn", document="R-dup",
                actor=ACTOR, pending=False)  # fmt: skip
    earn_points(member_id=duplicate.pk, points=40, source_key="t:dup:pend", document="R-dup2",
                actor=ACTOR, pending=True)  # fmt: skip

    response = client.post(
        reverse("admin:members_member_merge", args=[member.pk]),
        {"duplicate": "133 0013 3009", "reason": "Same person, two phones"},
        follow=True,
    )

    shown = [str(message) for message in response.context["messages"]]
    dup, survivor = _grouped(duplicate.card_number), _grouped(member.card_number)
    assert shown == [
        f"{dup} (Zhao L.) merged into {survivor} (Zhao Lei): its 150 available, 40 pending "
        f"and 0 held points moved over. {dup} stays, inactive; its card and mobile now find "
        f"{survivor}."
    ]
    member.refresh_from_db()
    assert (member.points_available, member.points_pending) == (3200 + 150, 40)


def test_merge_form_names_the_member_a_duplicate_was_already_merged_into(admin_client, member):
    other = enrol_member(phone="13300133008", actor=ACTOR, name="Sun Li")
    duplicate = enrol_member(phone="13300133009", actor=ACTOR, name="Zhao L.")
    admin_client.post(
        reverse("admin:members_member_merge", args=[other.pk]),
        {"duplicate": duplicate.card_number, "reason": "first merge"},
    )

    again = admin_client.post(
        reverse("admin:members_member_merge", args=[member.pk]),
        {"duplicate": "133 0013 3009", "reason": "second try"},
    )
    own = admin_client.post(
        reverse("admin:members_member_merge", args=[member.pk]),
        {"duplicate": member.card_number, "reason": "oops"},
    )

    assert again.status_code == 200
    assert (
        f"{_grouped(duplicate.card_number)} (Zhao L.) was already merged into "
        f"{_grouped(other.card_number)} (Sun Li)."
    ) in again.content.decode()
    assert "cannot be merged into itself" not in again.content.decode()
    other.refresh_from_db()
    assert other.merged_into_id is None  # the member typed was not swapped for its survivor
    assert f"This is {_grouped(member.card_number)} (Zhao Lei)&#x27;s own card" in (
        own.content.decode()
    )


def test_merge_form_refuses_an_unknown_duplicate(admin_client, member):
    response = admin_client.post(
        reverse("admin:members_member_merge", args=[member.pk]),
        {"duplicate": "000000000000", "reason": "x", "apply": "1"},
    )

    assert response.status_code == 200
    assert "No member with this card number or mobile" in response.content.decode()


def test_store_staff_see_members_but_cannot_merge_or_note(member):
    client = _staff(STORE_STAFF, "clerk")

    assert client.get(f"{CHANGELIST}{member.pk}/change/").status_code == 200
    assert client.get(reverse("admin:members_member_merge", args=[member.pk])).status_code == 403
    assert client.get(reverse("admin:members_member_note", args=[member.pk])).status_code == 403


def test_members_cannot_be_deleted(admin_client, member):
    assert admin_client.get(f"{CHANGELIST}{member.pk}/delete/").status_code == 403


def test_member_360_selector_reads_in_a_fixed_number_of_queries(
    member, django_assert_max_num_queries
):
    from omnimall.members.selectors.members import member_360

    with django_assert_max_num_queries(10):
        view = member_360(member.pk)

    assert view is not None
    assert view.purchase_count == 1
    assert view.lifetime_spend == Decimal("3200.00")
    assert [line.available_delta for line in view.points_history] == [3200]
    assert [(c.from_tier, c.to_tier, c.rolling_spend) for c in view.tier_changes] == [
        ("Standard", "Silver", "3200.00")
    ]
