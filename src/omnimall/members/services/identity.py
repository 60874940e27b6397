"""Who a member is: enrolment by mobile number, profile and consent, notes, account links.

One member per person, keyed by the mobile number in E.164. ``enrol_member`` is
idempotent by phone (a till or checkout that enrols a shopper twice gets the same
member). A storefront account is linked to a member only after the shopper proves the
number with a one-time code (``verification``), and staff merge duplicates
(``merging``).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from omnimall.core import audit, clock, sms
from omnimall.core.actors import Actor
from omnimall.core.errors import ValidationFailedError
from omnimall.core.shop import shop_name
from omnimall.inventory.selectors.allocation import list_locations
from omnimall.members.domain import InvalidPhoneError, normalise_phone
from omnimall.members.errors import (
    AccountAlreadyLinkedError,
    InvalidPhoneNumberError,
    MemberLinkedElsewhereError,
    MemberNotFoundError,
    MergeRefusedError,
    VerificationExpiredError,
    VerificationLockedError,
    VerificationTooSoonError,
    VerificationWrongCodeError,
)
from omnimall.members.models import Member, MemberNote, MemberPurchase, PhoneVerification

from .tiers import entry_tier, recalculate_tier

CARD_DIGITS = 12
CONSENT_FIELDS = {"sms": "consent_sms", "email": "consent_email", "wechat": "consent_wechat"}
_UNSET: Any = object()


def phone_e164(raw: str) -> str:
    """``raw`` as E.164 in the default region, or ``InvalidPhoneNumberError``."""
    region = getattr(settings, "MEMBER_DEFAULT_REGION", "CN")
    try:
        return normalise_phone(raw, region=region)
    except InvalidPhoneError:
        raise InvalidPhoneNumberError(phone=str(raw)[:32]) from None


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for ``digits`` (so a mistyped card number is caught)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_card_number(text: str) -> bool:
    return len(text) == CARD_DIGITS and text.isdigit() and luhn_digit(text[:-1]) == text[-1]


def new_card_number() -> str:
    """12 digits, first not 0, last a Luhn check digit: printable as a Code 128 barcode."""
    body = str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(CARD_DIGITS - 2)
    )
    return body + luhn_digit(body)


def _consent_fields(consent: dict[str, Any] | None) -> dict[str, bool]:
    if not consent:
        return {}
    unknown = set(consent) - set(CONSENT_FIELDS)
    if unknown:
        raise ValidationFailedError("Unknown consent.", fields=sorted(unknown))
    return {CONSENT_FIELDS[key]: bool(value) for key, value in consent.items()}


def _survivor(member: Member) -> Member:
    seen = {member.pk}
    while member.merged_into_id is not None and member.merged_into_id not in seen:
        seen.add(member.merged_into_id)
        member = Member.objects.select_related("tier").get(pk=member.merged_into_id)
    return member


@transaction.atomic
def enrol_member(
    *,
    phone: str,
    actor: Actor,
    name: str = "",
    email: str = "",
    home_store_id: int | None = None,
    joined_store_id: int | None = None,
    user_id: int | None = None,
    consent: dict[str, Any] | None = None,
) -> Member:
    """The member with this mobile number; a new one (entry tier, new card) if none.

    Idempotent by phone: an existing member is returned as it is (a merged duplicate's
    number gives the member it was merged into). ``InvalidPhoneNumberError`` (422) for a
    number that is not a valid mobile number.
    """
    e164 = phone_e164(phone)
    existing = Member.objects.select_related("tier").filter(phone=e164).first()
    if existing is not None:
        return _survivor(existing)
    consent_values = _consent_fields(consent)
    now = clock.now()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                member = Member.objects.create(
                    phone=e164,
                    card_number=new_card_number(),
                    name=" ".join(name.split())[:60],
                    email=email.strip().lower()[:254],
                    home_store_id=home_store_id or joined_store_id,
                    joined_store_id=joined_store_id,
                    user_id=user_id,
                    tier=entry_tier(),
                    consent_updated_at=now if consent_values else None,
                    **consent_values,
                )
        except IntegrityError:
            # Another enrolment of the same phone won the race, or (rarely) the card
            # number was taken: the first gives its member, the second tries a new card.
            raced = Member.objects.select_related("tier").filter(phone=e164).first()
            if raced is not None:
                return _survivor(raced)
            continue
        audit.record(actor=actor, action="member.enrolled", subject=member)
        return member
    raise IntegrityError("could not allocate a unique card number")


def _locked(member_id: int) -> Member:
    member = Member.objects.select_for_update(of=("self",)).filter(pk=member_id).first()
    if member is None:
        raise MemberNotFoundError(member_id=member_id)
    return member


def _store_ids() -> set[int]:
    return {loc.location_id for loc in list_locations() if loc.kind == "store"}


@transaction.atomic
def update_member_profile(
    *,
    member_id: int,
    actor: Actor,
    name: str | None = None,
    email: str | None = None,
    home_store_id: int | None = _UNSET,
    consent: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Member:
    """Change name, email, home store or marketing consent; audited with before/after."""
    member = _locked(member_id)
    before = audit.snapshot(member)
    if name is not None:
        member.name = " ".join(name.split())[:60]
    if email is not None:
        member.email = email.strip().lower()[:254]
    if home_store_id is not _UNSET:
        if home_store_id is not None and home_store_id not in _store_ids():
            raise ValidationFailedError("The home store must be one of our stores.")
        member.home_store_id = home_store_id
    consent_values = _consent_fields(consent)
    if any(getattr(member, key) != value for key, value in consent_values.items()):
        for key, value in consent_values.items():
            setattr(member, key, value)
        member.consent_updated_at = now or clock.now()
    changes = audit.diff(before, audit.snapshot(member))
    if changes:
        member.save(update_fields=[*changes, "updated_at"])
        audit.record(actor=actor, action="member.changed", subject=member, changes=changes)
    return member


@transaction.atomic
def add_member_note(*, member_id: int, text: str, actor: Actor) -> MemberNote:
    """A customer-service note on the member 360 page."""
    text = text.strip()
    if not text:
        raise ValidationFailedError("A note needs some text.")
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise MemberNotFoundError(member_id=member_id)
    note = MemberNote.objects.create(member=member, text=text, author_label=actor.label[:150])
    audit.record(actor=actor, action="member.note_added", subject=member)
    return note


# --- linking a storefront account by a one-time code ---------------------------------------

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
CODE_INTERVAL = timedelta(seconds=60)


def _code_hash(*, phone: str, code: str) -> str:
    return salted_hmac(
        "omnimall.members.phone-verification", f"{phone}:{code}", algorithm="sha256"
    ).hexdigest()


@transaction.atomic
def start_phone_verification(*, user: Any, phone: str) -> None:
    """Send a 6-digit code to ``phone`` (valid 10 minutes, 5 tries), at most once a minute.

    The code is stored only as a keyed hash; the text goes out after commit through
    ``core.sms``. Earlier unused codes of this account stop working.
    """
    e164 = phone_e164(phone)
    now = clock.now()
    # One request at a time per account: the rate check below cannot be raced.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    latest = PhoneVerification.objects.filter(user_id=user.pk).order_by("-created_at").first()
    if latest is not None and latest.created_at > now - CODE_INTERVAL:
        wait = int((latest.created_at + CODE_INTERVAL - now).total_seconds()) + 1
        raise VerificationTooSoonError(retry_after=wait)
    PhoneVerification.objects.filter(user_id=user.pk, consumed_at__isnull=True).update(
        expires_at=now
    )
    code = "".join(str(secrets.randbelow(10)) for _ in range(CODE_DIGITS))
    PhoneVerification.objects.create(
        user_id=user.pk,
        phone=e164,
        code_hash=_code_hash(phone=e164, code=code),
        expires_at=now + CODE_TTL,
    )
    minutes = int(CODE_TTL.total_seconds() // 60)
    text = gettext(
        "%(shop)s: your verification code is %(code)s. It expires in %(minutes)d minutes. "
        "If you did not ask for it, ignore this message."
    ) % {"shop": shop_name(), "code": code, "minutes": minutes}
    sms.send_after_commit(phone=e164, text=text)


def confirm_phone_verification(*, user: Any, phone: str, code: str) -> Member:
    """Check the code and link the account to the member with that phone (enrolling one).

    Refused: no live code (``verification_expired``), too many tries
    (``verification_locked``), a wrong code (``verification_wrong_code``; the try is
    counted), a member already linked to another account (``member_linked_elsewhere``),
    an account already linked to another member (``account_already_linked``).
    """
    e164 = phone_e164(phone)
    code = "".join(str(code).split())
    with transaction.atomic():
        verification = (
            PhoneVerification.objects.select_for_update()
            .filter(user_id=user.pk, phone=e164, consumed_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        now = clock.now()
        if verification is None or verification.expires_at <= now:
            raise VerificationExpiredError
        if verification.attempts >= CODE_MAX_ATTEMPTS:
            raise VerificationLockedError
        PhoneVerification.objects.filter(pk=verification.pk).update(attempts=F("attempts") + 1)
        right = constant_time_compare(verification.code_hash, _code_hash(phone=e164, code=code))
    # The counted try is committed before refusing, so guessing costs attempts.
    if not right:
        raise VerificationWrongCodeError(
            attempts_left=CODE_MAX_ATTEMPTS - verification.attempts - 1
        )
    with transaction.atomic():
        claimed = PhoneVerification.objects.filter(
            pk=verification.pk, consumed_at__isnull=True
        ).update(consumed_at=clock.now())
        if not claimed:
            raise VerificationExpiredError
        return _link(user=user, phone=e164)


def _link(*, user: Any, phone: str) -> Member:
    actor = Actor.from_user(user)
    member = enrol_member(
        phone=phone, actor=actor, name=user.first_name or "", email=user.email or ""
    )
    return link_account(member_id=member.pk, user=user, actor=actor)


@transaction.atomic
def link_account(*, member_id: int, user: Any, actor: Actor) -> Member:
    """Link a storefront account to a member (after the phone was proven, or by staff).

    Idempotent; refuses a member linked to another account (``member_linked_elsewhere``)
    and an account already linked to another member (``account_already_linked``). Fills
    the member's empty email and name from the account.
    """
    linked = Member.objects.filter(user_id=user.pk).first()
    if linked is not None and linked.pk != member_id:
        raise AccountAlreadyLinkedError
    member = _locked(member_id)
    if member.user_id == user.pk:
        return member
    if member.user_id is not None:
        raise MemberLinkedElsewhereError
    if member.merged_into_id is not None:
        raise MergeRefusedError("This member was merged into another one.")
    member.user_id = user.pk
    fields = ["user", "updated_at"]
    if not member.email and user.email:
        member.email = user.email.lower()
        fields.append("email")
    if not member.name and user.first_name:
        member.name = user.first_name[:60]
        fields.append("name")
    member.save(update_fields=fields)
    changes = {"user": [None, user.pk]}
    audit.record(actor=actor, action="member.account_linked", subject=member, changes=changes)
    return member


# --- merging duplicates ------------------------------------------------------------------


# Other apps' rows that point at a member and follow it into the survivor on a merge:
# ``fn(*, from_member_id, to_member_id)``, run inside the merge's transaction. Named by
# path (not imported) because those apps read members through ``members.selectors``.
MERGE_REASSIGNERS = (
    "omnimall.pos.services.sales.reassign_member",  # till receipts and returns
    "omnimall.members.partners.services.reassign_member",  # partner transfers
)


def _reassign_elsewhere(*, from_member_id: int, to_member_id: int) -> None:
    for dotted in MERGE_REASSIGNERS:
        import_string(dotted)(from_member_id=from_member_id, to_member_id=to_member_id)


@transaction.atomic
def merge_members(*, survivor_id: int, duplicate_id: int, actor: Actor, reason: str) -> Member:
    """Fold a duplicate into the survivor: points history, purchases, receipts, notes.

    The survivor keeps its phone and card and takes the duplicate's email, name, home
    store and storefront account where it has none; the duplicate stays (its phone and
    card still find the survivor) with ``merged_into`` set and ``is_active`` off. Both get
    an audit entry with the reason; the survivor's tier is recalculated.
    """
    from . import points

    reason = reason.strip()
    if not reason:
        raise ValidationFailedError("Say why these members are merged.")
    if survivor_id == duplicate_id:
        raise MergeRefusedError("A member cannot be merged into itself.")
    locked = {
        m.pk: m
        for m in Member.objects.select_for_update(of=("self",))
        .filter(pk__in=[survivor_id, duplicate_id])
        .order_by("pk")
    }
    survivor, duplicate = locked.get(survivor_id), locked.get(duplicate_id)
    if survivor is None or duplicate is None:
        raise MemberNotFoundError(member_id=duplicate_id if survivor else survivor_id)
    if survivor.merged_into_id is not None or duplicate.merged_into_id is not None:
        raise MergeRefusedError("One of these members was already merged.")
    before = audit.snapshot(survivor)
    points.move_history(from_member_id=duplicate.pk, to_member_id=survivor.pk)
    MemberPurchase.objects.filter(member_id=duplicate.pk).update(member_id=survivor.pk)
    MemberNote.objects.filter(member_id=duplicate.pk).update(member_id=survivor.pk)
    Member.objects.filter(merged_into_id=duplicate.pk).update(merged_into_id=survivor.pk)
    _reassign_elsewhere(from_member_id=duplicate.pk, to_member_id=survivor.pk)
    account = duplicate.user_id
    Member.objects.filter(pk=duplicate.pk).update(
        merged_into_id=survivor.pk, is_active=False, user_id=None, updated_at=clock.now()
    )
    survivor.refresh_from_db()
    if survivor.user_id is None and account is not None:
        survivor.user_id = account
    survivor.email = survivor.email or duplicate.email
    survivor.name = survivor.name or duplicate.name
    survivor.home_store_id = survivor.home_store_id or duplicate.home_store_id
    survivor.save(update_fields=["user", "email", "name", "home_store", "updated_at"])
    changes = audit.diff(before, audit.snapshot(survivor))
    changes["merged"] = [duplicate.card_number, survivor.card_number]
    audit.record(
        actor=actor, action="member.merged", subject=survivor, changes=changes, reason=reason
    )
    audit.record(
        actor=actor,
        action="member.merged_into",
        subject=duplicate,
        changes={"merged_into": [None, survivor.pk], "is_active": [True, False]},
        reason=reason,
    )
    recalculate_tier(member_id=survivor.pk)
    return Member.objects.select_related("tier").get(pk=survivor.pk)
