"""Points go out: spent at once, or held (for a till, an order, a partner), then committed or
released; lapsed holds are released by the sweeper and by the member's next spend or hold."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.members.models import (
    HoldPurpose,
    HoldState,
    PointsEntry,
    PointsEntryKind,
    PointsHold,
    PointsLot,
)

from ._ledger import (
    debit,
    lock_member,
    new_lot,
    once,
    post,
    replay_of,
    require_points,
    take_points_from_lots,
)
from .errors import (
    HoldNotHeldError,
    InvalidPointsError,
    PointsConflictError,
    PointsHoldNotFoundError,
)
from .expiry import BATCH, expire_overdue

HOLD_EXPIRY_ACTOR = Actor.system("points hold expiry")


def spend_points(
    *,
    member_id: int,
    points: int,
    source_key: str,
    document: str,
    actor: Actor,
    now: datetime | None = None,
) -> PointsEntry:
    """Spend available points, soonest-expiring lots first; ``InsufficientPointsError``."""
    require_points(points)
    with once(source_key):
        member = lock_member(member_id)
        replay = replay_of(
            source_key, member_id=member.pk, kinds={PointsEntryKind.SPEND}, points=points
        )
        if replay is not None:
            return replay
        now = now or clock.now()
        release_lapsed_holds(member_id=member.pk, now=now)
        expire_overdue(member_id=member.pk, now=now)
        return debit(
            member_id=member.pk,
            kind=PointsEntryKind.SPEND,
            points=points,
            source_key=source_key,
            document=document,
            actor=actor,
        )


def hold_points(
    *,
    member_id: int,
    points: int,
    source_key: str,
    purpose: str,
    reference: str,
    actor: Actor,
    expires_at: datetime | None = None,
) -> PointsHold:
    """Set ``points`` aside (available → held) for a till receipt, an order or a partner.

    The hold records which lots gave the points. Till holds without ``expires_at`` lapse
    after ``POINTS_HOLD_MINUTES``; checkout and partner holds last until committed or
    released. A repeat with the same ``source_key`` returns the first hold, whatever its
    state now.
    """
    require_points(points)
    if purpose not in HoldPurpose.values:
        raise InvalidPointsError("Unknown hold purpose.", purpose=purpose)
    with once(source_key):
        member = lock_member(member_id)
        existing = PointsHold.objects.filter(source_key=source_key).first()
        if existing is not None:
            if existing.member_id != member.pk or existing.points != points:
                raise PointsConflictError(source_key=source_key, hold_id=existing.pk)
            return existing
        now = clock.now()
        release_lapsed_holds(member_id=member.pk, now=now)
        expire_overdue(member_id=member.pk, now=now)
        if expires_at is None and purpose == HoldPurpose.POS:
            expires_at = now + timedelta(minutes=int(settings.POINTS_HOLD_MINUTES))
        hold = PointsHold.objects.create(
            member_id=member.pk,
            purpose=purpose,
            source_key=source_key,
            reference=reference[:80],
            points=points,
            expires_at=expires_at,
        )
        post(
            member_id=member.pk,
            kind=PointsEntryKind.HOLD,
            available=-points,
            held=points,
            source_key=source_key,
            actor=actor,
            document=reference,
            hold=hold,
        )
        taken = take_points_from_lots(member_id=member.pk, points=points)
        hold.lots = {str(lot_id): count for lot_id, count in taken.items()}
        hold.save(update_fields=["lots", "updated_at"])
        return hold


def _hold_member_id(hold_id: int) -> int:
    member_id = PointsHold.objects.filter(pk=hold_id).values_list("member_id", flat=True).first()
    if member_id is None:
        raise PointsHoldNotFoundError(hold_id=hold_id)
    return member_id


def commit_hold(
    *,
    hold_id: int,
    source_key: str,
    actor: Actor,
    kind: str = PointsEntryKind.SPEND,
    document: str = "",
) -> PointsEntry:
    """The held points are spent (or sent to a partner: ``kind=TRANSFER_OUT``): held → gone.

    A hold released, expired, past its ``expires_at`` or committed under another key →
    ``HoldNotHeldError``; a repeat with the same ``source_key`` returns the first entry.
    """
    if kind not in (PointsEntryKind.SPEND, PointsEntryKind.TRANSFER_OUT):
        raise InvalidPointsError("A hold is committed as a spend or a transfer out.", kind=kind)
    with once(source_key):
        member = lock_member(_hold_member_id(hold_id))
        hold = PointsHold.objects.get(pk=hold_id)
        done = PointsEntry.objects.filter(source_key=source_key).first()
        if done is not None:
            if done.hold_id != hold.pk or done.kind != kind:
                raise PointsConflictError(source_key=source_key, entry_id=done.pk)
            return done
        lapsed = hold.expires_at is not None and hold.expires_at <= clock.now()
        if hold.state != HoldState.HELD or lapsed:
            raise HoldNotHeldError(hold_id=hold.pk, state="expired" if lapsed else hold.state)
        claimed = PointsHold.objects.filter(pk=hold.pk, state=HoldState.HELD).update(
            state=HoldState.COMMITTED, updated_at=Now()
        )
        if claimed != 1:
            raise HoldNotHeldError(hold_id=hold.pk)
        return post(
            member_id=member.pk,
            kind=kind,
            held=-hold.points,
            source_key=source_key,
            actor=actor,
            document=document or hold.reference,
            related=PointsEntry.objects.filter(source_key=hold.source_key).first(),
            hold=hold,
        )


def _release(*, hold_id: int, actor: Actor, reason: str, expired: bool) -> tuple[PointsHold, bool]:
    with transaction.atomic():
        member = lock_member(_hold_member_id(hold_id))
        hold = PointsHold.objects.get(pk=hold_id)
        if hold.state in (HoldState.RELEASED, HoldState.EXPIRED):
            return hold, False
        if hold.state != HoldState.HELD:
            raise HoldNotHeldError(hold_id=hold.pk, state=hold.state)
        new_state = HoldState.EXPIRED if expired else HoldState.RELEASED
        claimed = PointsHold.objects.filter(pk=hold.pk, state=HoldState.HELD).update(
            state=new_state, updated_at=Now()
        )
        if claimed != 1:
            raise HoldNotHeldError(hold_id=hold.pk)
        entry = post(
            member_id=member.pk,
            kind=PointsEntryKind.RELEASE,
            held=-hold.points,
            available=hold.points,
            source_key=f"hold:{hold.pk}:release",
            actor=actor,
            document=hold.reference,
            reason=reason,
            related=PointsEntry.objects.filter(source_key=hold.source_key).first(),
            hold=hold,
        )
        returned = 0
        for lot_id, count in sorted((int(k), int(v)) for k, v in hold.lots.items()):
            back = PointsLot.objects.filter(pk=lot_id, member_id=member.pk).update(
                remaining=F("remaining") + count
            )
            returned += count if back == 1 else 0
        if returned < hold.points:  # lots not recorded: the rest becomes a new lot
            new_lot(
                member_id=member.pk, entry=entry, points=hold.points - returned, now=clock.now()
            )
        hold.refresh_from_db()
        return hold, True


def release_hold(
    *, hold_id: int, actor: Actor, reason: str = "", expired: bool = False
) -> PointsHold:
    """Held points go back (held → available) into the lots they came from.

    Idempotent: a hold already released or expired is returned as it is; a committed
    hold → ``HoldNotHeldError``. Points whose lot expired meanwhile expire at the next
    sweep (or the member's next spend).
    """
    hold, _ = _release(hold_id=hold_id, actor=actor, reason=reason, expired=expired)
    return hold


def release_lapsed_holds(*, member_id: int, now: datetime) -> None:
    """The member's holds past ``expires_at`` stop holding points at once (like the sweeper)."""
    lapsed = PointsHold.objects.filter(
        member_id=member_id, state=HoldState.HELD, expires_at__lte=now
    ).order_by("pk")
    for hold_id in lapsed.values_list("pk", flat=True):
        _release(hold_id=hold_id, actor=HOLD_EXPIRY_ACTOR, reason="expired", expired=True)


def release_expired_holds(*, now: datetime | None = None) -> int:
    """Release every held hold past its ``expires_at``; how many were released."""
    now = now or clock.now()
    released = 0
    after = 0
    while True:
        ids = list(
            PointsHold.objects.filter(state=HoldState.HELD, expires_at__lte=now, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return released
        for hold_id in ids:
            _, changed = _release(
                hold_id=hold_id, actor=HOLD_EXPIRY_ACTOR, reason="expired", expired=True
            )
            released += changed
        after = ids[-1]
