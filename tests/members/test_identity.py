"""Enrolment by phone, lookups by phone/card/account, profile and notes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

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


# --- one-time codes -----------------------------------------------------------------------


@pytest.fixture
def sms_outbox(settings):
    from omnimall.core import sms

    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def _code(outbox) -> str:
    import re

    match = re.search(r"\b(\d{6})\b", outbox[-1].text)
    assert match
    return match.group(1)


@pytest.fixture
def shopper(django_user_model):
    return django_user_model.objects.create_user(
        username="otp@x.cn", email="otp@x.cn", first_name="Wang", password="x"
    )


def test_confirm_phone_verification_links_a_new_member_to_the_account(
    shopper, sms_outbox, django_capture_on_commit_callbacks
):
    from omnimall.members.models import PhoneVerification
    from omnimall.members.services.identity import (
        confirm_phone_verification,
        start_phone_verification,
    )

    with django_capture_on_commit_callbacks(execute=True):
        start_phone_verification(user=shopper, phone="13700137000")
    member = confirm_phone_verification(user=shopper, phone="13700137000", code=_code(sms_outbox))

    assert sms_outbox[-1].phone == "+8613700137000"
    assert member.user_id == shopper.pk
    assert member.email == "otp@x.cn"
    assert member.name == "Wang"
    verification = PhoneVerification.objects.get()
    assert verification.consumed_at is not None
    assert _code(sms_outbox) not in verification.code_hash


def test_confirm_phone_verification_links_the_existing_member_of_that_phone(
    shopper, sms_outbox, django_capture_on_commit_callbacks
):
    from omnimall.members.services.identity import (
        confirm_phone_verification,
        start_phone_verification,
    )

    existing = enrol_member(phone="13700137001", actor=ACTOR, name="Till shopper")
    with django_capture_on_commit_callbacks(execute=True):
        start_phone_verification(user=shopper, phone="137 0013 7001")

    member = confirm_phone_verification(user=shopper, phone="13700137001", code=_code(sms_outbox))

    assert member.pk == existing.pk
    assert member.name == "Till shopper"
    assert member_for_user(shopper.pk) == existing


def test_a_wrong_code_counts_and_five_wrong_codes_lock_the_code(
    shopper, sms_outbox, django_capture_on_commit_callbacks
):
    from omnimall.members.errors import VerificationLockedError, VerificationWrongCodeError
    from omnimall.members.services.identity import (
        confirm_phone_verification,
        start_phone_verification,
    )

    with django_capture_on_commit_callbacks(execute=True):
        start_phone_verification(user=shopper, phone="13700137002")
    right = _code(sms_outbox)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    for _ in range(5):
        with pytest.raises(VerificationWrongCodeError):
            confirm_phone_verification(user=shopper, phone="13700137002", code=wrong)

    with pytest.raises(VerificationLockedError):
        confirm_phone_verification(user=shopper, phone="13700137002", code=right)
    assert member_for_user(shopper.pk) is None


def test_a_code_expires_after_ten_minutes(shopper, sms_outbox, django_capture_on_commit_callbacks):
    import time_machine

    from omnimall.members.errors import VerificationExpiredError
    from omnimall.members.services.identity import (
        confirm_phone_verification,
        start_phone_verification,
    )

    with django_capture_on_commit_callbacks(execute=True):
        start_phone_verification(user=shopper, phone="13700137003")

    with time_machine.travel(timedelta(minutes=11)), pytest.raises(VerificationExpiredError):
        confirm_phone_verification(user=shopper, phone="13700137003", code=_code(sms_outbox))


def test_only_one_code_a_minute_per_account(shopper, sms_outbox):
    import time_machine

    from omnimall.members.errors import VerificationTooSoonError
    from omnimall.members.services.identity import start_phone_verification

    start_phone_verification(user=shopper, phone="13700137004")

    with pytest.raises(VerificationTooSoonError) as refused:
        start_phone_verification(user=shopper, phone="13700137005")
    assert refused.value.status == 429
    with time_machine.travel(timedelta(seconds=61)):
        start_phone_verification(user=shopper, phone="13700137005")


def test_a_new_code_replaces_the_earlier_one(
    shopper, sms_outbox, django_capture_on_commit_callbacks
):
    import time_machine

    from omnimall.members.errors import VerificationExpiredError
    from omnimall.members.services.identity import (
        confirm_phone_verification,
        start_phone_verification,
    )

    with django_capture_on_commit_callbacks(execute=True):
        start_phone_verification(user=shopper, phone="13700137006")
    first = _code(sms_outbox)
    with time_machine.travel(timedelta(seconds=61)):
        with django_capture_on_commit_callbacks(execute=True):
            start_phone_verification(user=shopper, phone="13700137007")
        with pytest.raises(VerificationExpiredError):
            confirm_phone_verification(user=shopper, phone="13700137006", code=first)


def test_confirm_refuses_a_member_linked_to_another_account(
    shopper, sms_outbox, django_user_model, django_capture_on_commit_callbacks
):
    from omnimall.members.errors import MemberLinkedElsewhereError
    from omnimall.members.services.identity import (
        confirm_phone_verification,
        start_phone_verification,
    )

    owner = django_user_model.objects.create_user(username="owner@x.cn", password="x")
    enrol_member(phone="13700137008", actor=ACTOR, user_id=owner.pk)
    with django_capture_on_commit_callbacks(execute=True):
        start_phone_verification(user=shopper, phone="13700137008")

    with pytest.raises(MemberLinkedElsewhereError) as refused:
        confirm_phone_verification(user=shopper, phone="13700137008", code=_code(sms_outbox))

    assert refused.value.status == 409
    assert member_for_user(shopper.pk) is None
    assert find_member(phone="13700137008").user_id == owner.pk


def test_sms_file_backend_writes_one_file_per_message(settings, tmp_path):
    from omnimall.core import sms

    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms"

    sms.send(phone="+8613700137009", text="code 123456")

    (written,) = (tmp_path / "sms").iterdir()
    assert written.name.endswith("-8613700137009.txt")
    assert "code 123456" in written.read_text()


# --- merging ------------------------------------------------------------------------------


def test_merge_members_moves_points_purchases_and_notes_to_the_survivor(django_user_model):
    from omnimall.core import clock
    from omnimall.members.models import MemberNote, MemberPurchase
    from omnimall.members.services.identity import merge_members
    from omnimall.members.services.points import earn_points
    from omnimall.members.services.purchases import record_purchase

    user = django_user_model.objects.create_user(username="dup@x.cn", password="x")
    survivor = enrol_member(phone="13600136000", actor=ACTOR, name="Zhang")
    duplicate = enrol_member(phone="13600136001", actor=ACTOR, email="zhang@x.cn", user_id=user.pk)
    earn_points(member_id=survivor.pk, points=100, source_key="t:s", document="s",
                actor=ACTOR, pending=False)  # fmt: skip
    earn_points(member_id=duplicate.pk, points=250, source_key="t:d", document="d",
                actor=ACTOR, pending=False)  # fmt: skip
    earn_points(member_id=duplicate.pk, points=40, source_key="t:p", document="p",
                actor=ACTOR, pending=True)  # fmt: skip
    record_purchase(member_id=duplicate.pk, channel="store", store_id=None, document="R1",
                    source_key="t:r1", amount=Decimal("3200"), occurred_at=clock.now(),
                    actor=ACTOR)  # fmt: skip
    add_member_note(member_id=duplicate.pk, text="same person", actor=ACTOR)

    merged = merge_members(
        survivor_id=survivor.pk, duplicate_id=duplicate.pk, actor=ACTOR, reason="same person"
    )

    assert merged.pk == survivor.pk
    assert (merged.points_available, merged.points_pending) == (350, 40)
    assert merged.email == "zhang@x.cn"
    assert merged.user_id == user.pk
    assert merged.phone == "+8613600136000"
    assert merged.tier.code == "silver"
    assert MemberPurchase.objects.get().member_id == survivor.pk
    assert MemberNote.objects.get().member_id == survivor.pk
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk
    assert not duplicate.is_active
    assert duplicate.user_id is None
    assert (duplicate.points_available, duplicate.points_pending) == (0, 0)
    assert find_member(phone="13600136001") == survivor
    assert member_for_user(user.pk) == survivor
    assert AuditEntry.objects.filter(action="member.merged", reason="same person").exists()
    from omnimall.members.selectors.points import ledger_mismatches

    assert not list(ledger_mismatches())


def test_merge_members_refuses_itself_an_already_merged_member_and_no_reason():
    from omnimall.members.errors import MergeRefusedError
    from omnimall.members.services.identity import merge_members

    one = enrol_member(phone="13600136002", actor=ACTOR)
    two = enrol_member(phone="13600136003", actor=ACTOR)
    three = enrol_member(phone="13600136004", actor=ACTOR)

    with pytest.raises(ValidationFailedError):
        merge_members(survivor_id=one.pk, duplicate_id=two.pk, actor=ACTOR, reason=" ")
    with pytest.raises(MergeRefusedError):
        merge_members(survivor_id=one.pk, duplicate_id=one.pk, actor=ACTOR, reason="x")
    merge_members(survivor_id=one.pk, duplicate_id=two.pk, actor=ACTOR, reason="x")
    with pytest.raises(MergeRefusedError):
        merge_members(survivor_id=three.pk, duplicate_id=two.pk, actor=ACTOR, reason="x")


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_the_same_phone_enrolled_10_times_at_once_makes_one_member(race_database):
    from tests.races import run_together

    ids = run_together(10, lambda i: enrol_member(phone="13100131000", actor=ACTOR).pk)

    assert len(set(ids)) == 1
    assert Member.objects.filter(phone="+8613100131000").count() == 1


def test_find_member_is_one_query_and_one_more_per_merge_hop(django_assert_num_queries):
    survivor = enrol_member(phone="13100131001", actor=ACTOR)
    duplicate = enrol_member(phone="13100131002", actor=ACTOR)
    Member.objects.filter(pk=duplicate.pk).update(merged_into=survivor, is_active=False)

    with django_assert_num_queries(1):
        assert find_member(card=survivor.card_number).tier.code == "standard"
    with django_assert_num_queries(2):
        assert find_member(phone="13100131002") == survivor


def test_update_member_profile_refuses_a_warehouse_as_home_store():
    warehouse = make_location("w-not-home")
    member = enrol_member(phone="13100131003", actor=ACTOR)

    with pytest.raises(ValidationFailedError):
        update_member_profile(member_id=member.pk, actor=ACTOR, home_store_id=warehouse.pk)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+8613800138000", "13800138000"),  # a Chinese mobile, as people type it here
        ("+14155550123", "+14155550123"),  # from elsewhere: E.164 stays unambiguous
        ("not a number", "not a number"),
    ],
)
def test_national_phone_is_how_people_in_the_region_type_it(stored, shown):
    from omnimall.members.domain import national_phone

    assert national_phone(stored, region="CN") == shown
