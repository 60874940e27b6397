"""Enrolment by phone, lookups by phone/card/account, profile and notes."""

from __future__ import annotations

import pytest

from omnimall.core.actors import Actor
from omnimall.core.errors import ValidationFailedError
from omnimall.core.models import AuditEntry
from omnimall.members.errors import InvalidPhoneNumberError
from omnimall.members.models import Member
from omnimall.members.selectors.members import (
    find_member,
    group_card,
    mask_phone,
    member_for_user,
    member_summary,
)
from omnimall.members.services.identity import (
    add_member_note,
    enrol_member,
    is_card_number,
    new_card_number,
    update_member_profile,
)
from tests.inventory.factories import make_location

ACTOR = Actor.system("member-tests")
pytestmark = pytest.mark.django_db


def test_new_card_number_is_twelve_digits_with_a_check_digit():
    numbers = {new_card_number() for _ in range(200)}

    assert all(len(n) == 12 and n.isdigit() and n[0] != "0" for n in numbers)
    assert all(is_card_number(n) for n in numbers)
    assert len(numbers) == 200
    sample = next(iter(numbers))
    assert not is_card_number(sample[:-1] + str((int(sample[-1]) + 1) % 10))


def test_enrol_member_creates_an_entry_tier_member_with_e164_phone():
    store = make_location("s-enrol", kind="store")

    member = enrol_member(
        phone="138 0013 8000",
        actor=ACTOR,
        name="  Han   Meimei ",
        email="Han@Example.COM",
        joined_store_id=store.pk,
        consent={"sms": True},
    )

    assert member.phone == "+8613800138000"
    assert member.tier.rank == 0
    assert member.name == "Han Meimei"
    assert member.email == "han@example.com"
    assert member.joined_store_id == store.pk
    assert member.home_store_id == store.pk
    assert member.consent_sms is True
    assert member.consent_email is False
    assert member.consent_updated_at is not None
    assert is_card_number(member.card_number)
    assert AuditEntry.objects.filter(action="member.enrolled", subject_id=str(member.pk)).exists()


def test_enrol_member_returns_the_existing_member_when_the_phone_is_known():
    first = enrol_member(phone="+8613800138001", actor=ACTOR, name="A")

    again = enrol_member(phone="13800138001", actor=ACTOR, name="B")

    assert again.pk == first.pk
    assert again.name == "A"
    assert Member.objects.count() == 1


@pytest.mark.parametrize("phone", ["", "12345", "not a phone", "+86 1380013800099999"])
def test_enrol_member_refuses_when_the_phone_is_not_a_mobile_number(phone):
    with pytest.raises(InvalidPhoneNumberError) as refused:
        enrol_member(phone=phone, actor=ACTOR)

    assert refused.value.code == "invalid_phone"
    assert refused.value.status == 422
    assert Member.objects.count() == 0


def test_enrol_member_refuses_unknown_consent_keys():
    with pytest.raises(ValidationFailedError):
        enrol_member(phone="13800138002", actor=ACTOR, consent={"fax": True})


def test_find_member_by_phone_in_any_form_and_by_card_with_spaces():
    member = enrol_member(phone="13800138003", actor=ACTOR)

    assert find_member(phone="+86 138 0013 8003") == member
    assert find_member(phone="13800138003") == member
    assert find_member(card=group_card(member.card_number)) == member
    assert find_member(phone="13800138004") is None
    assert find_member(card="000000000000") is None
    assert find_member() is None


def test_find_member_refuses_a_phone_that_is_not_a_number():
    with pytest.raises(InvalidPhoneNumberError):
        find_member(phone="abc")


def test_find_member_follows_a_merge_to_the_survivor():
    survivor = enrol_member(phone="13800138005", actor=ACTOR)
    duplicate = enrol_member(phone="13800138006", actor=ACTOR)
    Member.objects.filter(pk=duplicate.pk).update(merged_into=survivor, is_active=False)

    assert find_member(phone="13800138006") == survivor
    assert find_member(card=duplicate.card_number) == survivor
    assert enrol_member(phone="13800138006", actor=ACTOR) == survivor


def test_member_for_user_gives_the_linked_member_only(django_user_model):
    user = django_user_model.objects.create_user(username="u1@x.cn", password="x")
    other = django_user_model.objects.create_user(username="u2@x.cn", password="x")
    member = enrol_member(phone="13800138007", actor=ACTOR, user_id=user.pk)

    assert member_for_user(user.pk) == member
    assert member_for_user(other.pk) is None
    assert member_for_user(None) is None


def test_update_member_profile_changes_consent_and_home_store_with_audit():
    store = make_location("s-home", kind="store")
    member = enrol_member(phone="13800138008", actor=ACTOR)

    update_member_profile(
        member_id=member.pk,
        actor=ACTOR,
        home_store_id=store.pk,
        consent={"email": True, "wechat": True},
    )

    member.refresh_from_db()
    assert member.home_store_id == store.pk
    assert (member.consent_sms, member.consent_email, member.consent_wechat) == (
        False,
        True,
        True,
    )
    assert member.consent_updated_at is not None
    entry = AuditEntry.objects.get(action="member.changed", subject_id=str(member.pk))
    assert entry.changes["consent_email"] == [False, True]
    assert entry.changes["home_store_id"] == [None, store.pk]


def test_update_member_profile_writes_nothing_when_nothing_changes():
    member = enrol_member(phone="13800138009", actor=ACTOR)

    update_member_profile(member_id=member.pk, actor=ACTOR, consent={"sms": False})

    assert not AuditEntry.objects.filter(action="member.changed").exists()


def test_add_member_note_keeps_the_author_and_refuses_empty_text():
    member = enrol_member(phone="13800138010", actor=ACTOR)

    note = add_member_note(member_id=member.pk, text=" called about a refund ", actor=ACTOR)

    assert note.text == "called about a refund"
    assert note.author_label == "member-tests"
    with pytest.raises(ValidationFailedError):
        add_member_note(member_id=member.pk, text="   ", actor=ACTOR)


def test_member_summary_shows_masked_phone_grouped_card_and_progress():
    member = enrol_member(phone="13800138011", actor=ACTOR, name="Li")

    summary = member_summary(member.pk)

    assert summary is not None
    assert summary.phone_masked == "+86 138****8011"
    assert summary.card_grouped.replace(" ", "") == member.card_number
    assert summary.progress.current.code == "standard"
    assert summary.progress.next is not None
    assert summary.progress.next.code == "silver"
    assert summary.progress.percent == 0
    assert member_summary(10**9) is None


def test_mask_phone_keeps_only_the_ends():
    assert mask_phone("+8613800138000") == "+86 138****8000"
    assert mask_phone("+447700900123") == "+447*****0123"
