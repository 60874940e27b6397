"""Who a member is: enrolment by mobile number, profile and consent, notes, account links.

One member per person, keyed by the mobile number in E.164. ``enrol_member`` is
idempotent by phone (a till or checkout that enrols a shopper twice gets the same
member). A storefront account is linked to a member only after the shopper proves the
number with a one-time code (``verification``), and staff merge duplicates
(``merging``).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.core.errors import ValidationFailedError
from omnimall.members.domain import InvalidPhoneError, normalise_phone
from omnimall.members.errors import InvalidPhoneNumberError, MemberNotFoundError
from omnimall.members.models import Member, MemberNote

from .tiers import entry_tier

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
