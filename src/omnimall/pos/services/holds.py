"""Points holds at the till: set a member's points aside while the shopper pays.

A till asks for a hold when the shopper wants to pay with points, then either sends the
receipt naming the hold (``record_sale`` commits it), commits it explicitly, or cancels it.
A hold nobody commits lapses after ``POINTS_HOLD_MINUTES`` (the members app's sweeper
gives the points back).

The store is part of the hold's source key, ``pos:<store>:<receipt>:hold``, so only that
store's key may commit or cancel it (another store → 403 ``forbidden_store``). The points
are committed under ``pos:<store>:<receipt>:spend`` — the key ``record_sale`` uses — so a
hold committed here and then named by the receipt is spent once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from omnimall.core.actors import Actor
from omnimall.members.models import HoldPurpose, PointsHold
from omnimall.members.services import points as points_services
from omnimall.pos.errors import (
    ForbiddenStoreError,
    HoldNotFoundError,
    HoldReceiptMismatchError,
    UnknownMemberError,
)

from .sales import resolve_member, source_key


@dataclass(frozen=True, slots=True)
class TillHold:
    hold_id: int
    store: str
    receipt_number: str
    member_card: str
    points: int
    state: str
    expires_at: datetime | None
    created: bool = False  # False: the hold already existed (a retried request)


def place_till_hold(
    *, store_code: str, receipt_number: str, phone: str, card: str, points: int, actor: Actor
) -> TillHold:
    """Hold ``points`` of the member (by card or phone) for one receipt at one store.

    An unknown member → 422 ``unknown_member``; too few points → 409
    ``insufficient_points``; the same receipt again → the first hold (``created=False``),
    or 409 ``points_source_conflict`` for another member or amount.
    """
    ref = resolve_member(phone=phone, card=card)
    if ref is None or ref.member_id is None:
        # An unknown card is refused by resolve_member: here the phone is unknown.
        raise UnknownMemberError("No member has this phone.", phone=phone, card=card)
    key = source_key(store_code, receipt_number, "hold")
    existed = PointsHold.objects.filter(source_key=key).exists()
    with transaction.atomic():
        hold = points_services.hold_points(
            member_id=ref.member_id,
            points=points,
            source_key=key,
            purpose=HoldPurpose.POS,
            reference=source_key(store_code, receipt_number)[:80],
            actor=actor,
        )
    return _view(hold, store_code=store_code, receipt_number=receipt_number, created=not existed)


def commit_till_hold(
    *, hold_id: int, store_code: str, receipt_number: str, actor: Actor
) -> TillHold:
    """Spend the held points for ``receipt_number`` (the receipt the hold was taken for).

    A hold no longer held → 409 ``points_hold_not_held`` (a repeat of this commit
    returns the committed hold).
    """
    hold = _own_hold(hold_id=hold_id, store_code=store_code)
    if hold.source_key != source_key(store_code, receipt_number, "hold"):
        raise HoldReceiptMismatchError(hold_id=hold_id, receipt_number=receipt_number)
    with transaction.atomic():
        points_services.commit_hold(
            hold_id=hold_id,
            source_key=source_key(store_code, receipt_number, "spend"),
            actor=actor,
            document=receipt_number,
        )
    hold.refresh_from_db()
    return _view(hold, store_code=store_code, receipt_number=receipt_number)


def cancel_till_hold(*, hold_id: int, store_code: str, actor: Actor) -> TillHold:
    """Give the held points back (idempotent; a committed hold → 409)."""
    hold = _own_hold(hold_id=hold_id, store_code=store_code)
    with transaction.atomic():
        hold = points_services.release_hold(
            hold_id=hold_id, actor=actor, reason="cancelled at the till"
        )
    return _view(hold, store_code=store_code, receipt_number=_receipt_of(hold, store_code))


def _own_hold(*, hold_id: int, store_code: str) -> PointsHold:
    hold = (
        PointsHold.objects.select_related("member")
        .filter(pk=hold_id, purpose=HoldPurpose.POS)
        .first()
    )
    if hold is None:
        raise HoldNotFoundError(hold_id=hold_id)
    if not (hold.source_key.startswith(f"pos:{store_code}:") and hold.source_key.endswith(":hold")):
        raise ForbiddenStoreError(hold_id=hold_id)
    return hold


def _receipt_of(hold: PointsHold, store_code: str) -> str:
    return hold.source_key[len(f"pos:{store_code}:") : -len(":hold")]


def _view(
    hold: PointsHold, *, store_code: str, receipt_number: str, created: bool = False
) -> TillHold:
    return TillHold(
        hold_id=hold.pk,
        store=store_code,
        receipt_number=receipt_number,
        member_card=hold.member.card_number,
        points=hold.points,
        state=hold.state,
        expires_at=hold.expires_at,
        created=created,
    )
