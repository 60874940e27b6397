"""The points ledger: every change of a member's points goes through a function here.

Rules every function keeps (``check_points_ledger`` and the race tests check them):

- **Lock first.** Each write runs in a transaction (a savepoint inside the caller's) and
  starts by locking the member row (``select_for_update``). Every write of a member's
  points, lots and holds happens under that lock, so writes of one member queue and
  never interleave; writes of different members never wait on each other.
- **Append, then cache.** Each change appends exactly one immutable ``PointsEntry`` and
  moves the member's cached balances by the same deltas with a conditional ``F()`` update
  (``… WHERE points_available >= n``); the table's CHECK constraints are the backstop. A
  balance can therefore never go below zero, whatever the concurrency.
- **Lots.** Available points live in lots (``PointsLot``) that expire together;
  ``sum(open lot.remaining) == points_available`` always. Points leave the soonest-expiring
  lots first; a hold records which lots gave its points and a release puts them back.
  Lots past their expiry are expired (``EXPIRE`` entries) by the nightly ``expire_points``
  and, for one member, at the start of a spend or a hold, so expired points are never spent.
- **Holds lapse.** A hold past its ``expires_at`` can no longer be committed; the sweeper
  (``release_expired_holds``, every minute) gives its points back, and so does the member's
  next spend or hold, first thing, so lapsed points are spendable at once.
- **Once per source key.** ``source_key`` is unique. A repeat returns the first entry and
  posts nothing; a repeat that asks for something else (another member, kind or amount)
  is refused with ``PointsConflictError`` (409 ``points_source_conflict``).
- **Merged members.** A write addressed to a member merged into another lands on the
  survivor (``merged_into`` is followed), where ``move_history`` put the history.

The functions are not durable: checkout, orders, the POS and partner services call them
inside their own unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce, Now

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.core.errors import ConflictError, NotFoundError, ValidationFailedError
from omnimall.members.domain import Lot, add_months, take_from_lots
from omnimall.members.models import (
    HoldPurpose,
    HoldState,
    Member,
    PointsEntry,
    PointsEntryKind,
    PointsHold,
    PointsLot,
)

BATCH = 500
EXPIRY_ACTOR = Actor.system("points expiry")
HOLD_EXPIRY_ACTOR = Actor.system("points hold expiry")

__all__ = [
    "HoldNotHeldError",
    "InsufficientPointsError",
    "InvalidPointsError",
    "MemberNotFoundError",
    "PointsConflictError",
    "PointsHoldNotFoundError",
    "PointsLedgerError",
    "PointsReasonRequiredError",
    "adjust_points",
    "commit_hold",
    "earn_points",
    "expire_points",
    "hold_points",
    "mature_points",
    "move_history",
    "release_expired_holds",
    "release_hold",
    "restore_points",
    "reverse_earn",
    "spend_points",
    "transfer_in",
]


# --- errors ---------------------------------------------------------------------------


class InsufficientPointsError(ConflictError):
    code = "insufficient_points"
    message = "The member does not have enough points available."


class PointsConflictError(ConflictError):
    code = "points_source_conflict"
    message = "This source key already posted a different points change."


class HoldNotHeldError(ConflictError):
    code = "points_hold_not_held"
    message = "The points hold is no longer held (committed, released or expired)."


class PointsLedgerError(ConflictError):
    code = "points_ledger_mismatch"
    message = "The member's points lots do not match the balance; run check_points_ledger."


class InvalidPointsError(ValidationFailedError):
    code = "invalid_points"
    message = "The number of points is not valid for this operation."


class PointsReasonRequiredError(ValidationFailedError):
    code = "reason_required"
    message = "A points adjustment needs a reason."


class MemberNotFoundError(NotFoundError):
    code = "member_not_found"
    message = "No such member."


class PointsHoldNotFoundError(NotFoundError):
    code = "points_hold_not_found"
    message = "No such points hold."


# --- building blocks (call under the member's lock) ---------------------------------------


def _require_points(points: object, *, allow_zero: bool = False) -> int:
    if isinstance(points, bool) or not isinstance(points, int):
        raise InvalidPointsError(points=points)
    if points < 0 or (points == 0 and not allow_zero):
        raise InvalidPointsError(points=points)
    return points


def _lock_member(member_id: int) -> Member:
    """Lock the member (or the member it was merged into) and return it."""
    target: int = member_id
    for _ in range(10):  # a merge chain is short; this only stops a cycle
        try:
            member = Member.objects.select_for_update().get(pk=target)
        except Member.DoesNotExist:
            raise MemberNotFoundError(member_id=member_id) from None
        if member.merged_into_id is None:
            return member
        target = member.merged_into_id
    raise MemberNotFoundError(member_id=member_id)


@contextmanager
def _once(source_key: str) -> Iterator[None]:
    """A savepoint; a racing duplicate ``source_key`` (other member) becomes a 409."""
    if not source_key or len(source_key) > 200:
        raise InvalidPointsError("A source key of 1 to 200 characters is required.")
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        taken = (
            PointsEntry.objects.filter(source_key=source_key).exists()
            or PointsHold.objects.filter(source_key=source_key).exists()
        )
        if taken:
            raise PointsConflictError(source_key=source_key) from exc
        raise


def _magnitude(entry: PointsEntry) -> int:
    return max(abs(entry.available_delta), abs(entry.held_delta), abs(entry.pending_delta))


def _replay(
    source_key: str,
    *,
    member_id: int,
    kinds: set[str],
    points: int | None = None,
    signed: bool = False,
) -> PointsEntry | None:
    """The entry ``source_key`` already posted, if it asked for the same; else a 409."""
    entry = PointsEntry.objects.filter(source_key=source_key).first()
    if entry is None:
        return None
    same = entry.member_id == member_id and entry.kind in kinds
    if same and points is not None:
        same = (entry.available_delta if signed else _magnitude(entry)) == points
    if not same:
        raise PointsConflictError(source_key=source_key, entry_id=entry.pk)
    return entry


def _post(
    *,
    member_id: int,
    kind: str,
    source_key: str,
    actor: Actor,
    available: int = 0,
    held: int = 0,
    pending: int = 0,
    document: str = "",
    reason: str = "",
    related: PointsEntry | None = None,
    hold: PointsHold | None = None,
) -> PointsEntry:
    """Move the cached balances by the deltas (never below zero) and append the entry."""
    rows = Member.objects.filter(pk=member_id)
    if available < 0:
        rows = rows.filter(points_available__gte=-available)
    if held < 0:
        rows = rows.filter(points_held__gte=-held)
    if pending < 0:
        rows = rows.filter(points_pending__gte=-pending)
    changed = rows.update(
        points_available=F("points_available") + available,
        points_held=F("points_held") + held,
        points_pending=F("points_pending") + pending,
        updated_at=Now(),
    )
    if changed != 1:
        current = Member.objects.values("points_available", "points_held", "points_pending").get(
            pk=member_id
        )
        raise InsufficientPointsError(
            member_id=member_id, wanted=-min(available, held, pending), **current
        )
    return PointsEntry.objects.create(
        member_id=member_id,
        kind=kind,
        available_delta=available,
        held_delta=held,
        pending_delta=pending,
        source_key=source_key,
        document=document[:80],
        reason=reason,
        actor_kind=actor.kind,
        actor_label=actor.label[:150],
        related=related,
        hold=hold,
    )


def _new_lot(*, member_id: int, entry: PointsEntry, points: int, now: datetime) -> PointsLot:
    return PointsLot.objects.create(
        member_id=member_id,
        entry=entry,
        points=points,
        remaining=points,
        available_at=now,
        expires_at=add_months(now, int(settings.POINTS_EXPIRY_MONTHS)),
    )


def _take_from_lots(*, member_id: int, points: int) -> dict[int, int]:
    """Take ``points`` out of the member's open lots, soonest-expiring first."""
    rows = PointsLot.objects.filter(member_id=member_id, remaining__gt=0).values_list(
        "pk", "remaining", "expires_at"
    )
    lots = [Lot(lot_id=pk, remaining=remaining, expires_at=when) for pk, remaining, when in rows]
    try:
        taken = take_from_lots(lots, points)
    except ValueError:
        raise PointsLedgerError(member_id=member_id, points=points) from None
    for lot_id, count in sorted(taken.items()):
        moved = PointsLot.objects.filter(pk=lot_id, remaining__gte=count).update(
            remaining=F("remaining") - count
        )
        if moved != 1:
            raise PointsLedgerError(member_id=member_id, lot_id=lot_id)
    return taken


def _expire_key(lot_id: int) -> str:
    """``expire:lot:<id>``; a lot expired again (a released hold refilled it) gets ``:<n>``."""
    key = f"expire:lot:{lot_id}"
    if not PointsEntry.objects.filter(source_key=key).exists():  # the usual case: indexed
        return key
    again = PointsEntry.objects.filter(
        member_id__in=PointsLot.objects.filter(pk=lot_id).values("member_id"),
        source_key__startswith=f"{key}:",
    ).count()
    return f"{key}:{again + 2}"


def _expire_overdue(*, member_id: int, now: datetime) -> int:
    """Expire the member's lots past their expiry: one EXPIRE entry per lot."""
    lots = list(
        PointsLot.objects.filter(member_id=member_id, remaining__gt=0, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", "remaining", "expires_at")
    )
    for lot_id, remaining, expires_at in lots:
        _post(
            member_id=member_id,
            kind=PointsEntryKind.EXPIRE,
            available=-remaining,
            source_key=_expire_key(lot_id),
            actor=EXPIRY_ACTOR,
            document=f"lot {lot_id}",
            reason=f"expired {expires_at:%Y-%m-%d}",
        )
        if PointsLot.objects.filter(pk=lot_id, remaining=remaining).update(remaining=0) != 1:
            raise PointsLedgerError(member_id=member_id, lot_id=lot_id)
    return len(lots)


def _credit(
    *,
    member_id: int,
    kind: str,
    points: int,
    source_key: str,
    document: str,
    actor: Actor,
    now: datetime,
    reason: str = "",
    related: PointsEntry | None = None,
    pending: int = 0,
) -> PointsEntry:
    """Points become available: the entry and a new lot of them."""
    entry = _post(
        member_id=member_id,
        kind=kind,
        available=points,
        pending=pending,
        source_key=source_key,
        actor=actor,
        document=document,
        reason=reason,
        related=related,
    )
    _new_lot(member_id=member_id, entry=entry, points=points, now=now)
    return entry


def _debit(
    *,
    member_id: int,
    kind: str,
    points: int,
    source_key: str,
    document: str,
    actor: Actor,
    reason: str = "",
    related: PointsEntry | None = None,
    pending: int = 0,
) -> PointsEntry:
    """Available points leave: the entry (refused below zero), then the lots."""
    entry = _post(
        member_id=member_id,
        kind=kind,
        available=-points,
        pending=-pending,
        source_key=source_key,
        actor=actor,
        document=document,
        reason=reason,
        related=related,
    )
    if points:
        _take_from_lots(member_id=member_id, points=points)
    return entry


# --- earning ------------------------------------------------------------------------------


def earn_points(
    *,
    member_id: int,
    points: int,
    source_key: str,
    document: str,
    actor: Actor,
    pending: bool,
    now: datetime | None = None,
) -> PointsEntry | None:
    """Earn ``points``: pending (online, until the return window closes) or available at
    once with a lot expiring ``POINTS_EXPIRY_MONTHS`` later. 0 points posts nothing."""
    _require_points(points, allow_zero=True)
    if points == 0:
        return None
    with _once(source_key):
        member = _lock_member(member_id)
        replay = _replay(
            source_key, member_id=member.pk, kinds={PointsEntryKind.EARN}, points=points
        )
        if replay is not None:
            return replay
        if pending:
            return _post(
                member_id=member.pk,
                kind=PointsEntryKind.EARN,
                pending=points,
                source_key=source_key,
                actor=actor,
                document=document,
            )
        return _credit(
            member_id=member.pk,
            kind=PointsEntryKind.EARN,
            points=points,
            source_key=source_key,
            document=document,
            actor=actor,
            now=now or clock.now(),
        )


def _earn_entry(earn_source_key: str) -> PointsEntry | None:
    return PointsEntry.objects.filter(source_key=earn_source_key, kind=PointsEntryKind.EARN).first()


def _followers_sum(earn: PointsEntry, *, kinds: tuple[str, ...]) -> tuple[int, int]:
    """(available, pending) deltas of the entries that followed ``earn`` of ``kinds``."""
    totals = PointsEntry.objects.filter(related=earn, kind__in=kinds).aggregate(
        available=Coalesce(Sum("available_delta"), 0), pending=Coalesce(Sum("pending_delta"), 0)
    )
    return int(totals["available"]), int(totals["pending"])


def _pending_left(earn: PointsEntry) -> int:
    _, pending = _followers_sum(earn, kinds=(PointsEntryKind.MATURE, PointsEntryKind.REVERSE))
    return earn.pending_delta + pending


def mature_points(
    *, earn_source_key: str, source_key: str, actor: Actor, now: datetime | None = None
) -> PointsEntry | None:
    """What is still pending of that earn (after reversals) becomes available, in a lot.

    Nothing left pending (or no such earn) → None, nothing posted.
    """
    earn = _earn_entry(earn_source_key)
    if earn is None:
        return None
    with _once(source_key):
        member = _lock_member(earn.member_id)
        earn.refresh_from_db()
        replay = _replay(source_key, member_id=member.pk, kinds={PointsEntryKind.MATURE})
        if replay is not None:
            return replay
        still = _pending_left(earn)
        if still <= 0:
            return None
        return _credit(
            member_id=member.pk,
            kind=PointsEntryKind.MATURE,
            points=still,
            pending=-still,
            source_key=source_key,
            document=earn.document,
            actor=actor,
            now=now or clock.now(),
            related=earn,
        )


def reverse_earn(
    *,
    earn_source_key: str,
    points: int,
    source_key: str,
    document: str,
    actor: Actor,
    reason: str = "",
) -> PointsEntry | None:
    """Take back up to ``points`` of that earn (a return or refund), never below zero.

    Only what that earn has not already had reversed: from its pending part while it is
    pending, else from available points (soonest-expiring lots first). When the member
    has spent the points meanwhile, what is there is taken and the shortfall is written
    in the entry's reason (and the audit trail when nothing at all could be taken).
    """
    _require_points(points, allow_zero=True)
    earn = _earn_entry(earn_source_key)
    if points == 0 or earn is None:
        return None
    with _once(source_key):
        member = _lock_member(earn.member_id)
        earn.refresh_from_db()
        replay = _replay(source_key, member_id=member.pk, kinds={PointsEntryKind.REVERSE})
        if replay is not None:
            return replay
        reversed_available, reversed_pending = _followers_sum(
            earn, kinds=(PointsEntryKind.REVERSE,)
        )
        left = earn.available_delta + earn.pending_delta + reversed_available + reversed_pending
        wanted = min(points, left)
        if wanted <= 0:
            return None
        from_pending = min(wanted, max(0, _pending_left(earn)))
        from_available = min(wanted - from_pending, member.points_available)
        shortfall = wanted - from_pending - from_available
        note = reason
        if shortfall:
            note = (
                f"{reason} (shortfall: {shortfall} points already spent)"
                if reason
                else f"shortfall: {shortfall} points already spent"
            )
        if from_pending + from_available == 0:
            audit.record(
                actor=actor,
                action="points.reversal_shortfall",
                subject=member,
                changes={"earn_entry_id": earn.pk, "shortfall": shortfall},
                reason=note,
            )
            return None
        return _debit(
            member_id=member.pk,
            kind=PointsEntryKind.REVERSE,
            points=from_available,
            pending=from_pending,
            source_key=source_key,
            document=document,
            actor=actor,
            reason=note,
            related=earn,
        )


def restore_points(
    *,
    member_id: int,
    points: int,
    source_key: str,
    document: str,
    actor: Actor,
    reason: str = "",
) -> PointsEntry:
    """Points spent on a refunded part come back (kind REVERSE), in a new lot."""
    _require_points(points)
    with _once(source_key):
        member = _lock_member(member_id)
        replay = _replay(
            source_key, member_id=member.pk, kinds={PointsEntryKind.REVERSE}, points=points
        )
        if replay is not None:
            return replay
        return _credit(
            member_id=member.pk,
            kind=PointsEntryKind.REVERSE,
            points=points,
            source_key=source_key,
            document=document,
            actor=actor,
            now=clock.now(),
            reason=reason,
        )


def transfer_in(
    *, member_id: int, points: int, source_key: str, document: str, actor: Actor
) -> PointsEntry:
    """Points converted in from a partner's programme: available at once, in a new lot."""
    _require_points(points)
    with _once(source_key):
        member = _lock_member(member_id)
        replay = _replay(
            source_key, member_id=member.pk, kinds={PointsEntryKind.TRANSFER_IN}, points=points
        )
        if replay is not None:
            return replay
        return _credit(
            member_id=member.pk,
            kind=PointsEntryKind.TRANSFER_IN,
            points=points,
            source_key=source_key,
            document=document,
            actor=actor,
            now=clock.now(),
        )


def adjust_points(
    *,
    member_id: int,
    points: int,
    reason: str,
    actor: Actor,
    source_key: str | None = None,
) -> PointsEntry:
    """A staff correction by a signed number of available points, with a required reason."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise InvalidPointsError(points=points)
    reason = (reason or "").strip()
    if not reason:
        raise PointsReasonRequiredError()
    source_key = source_key or f"adjust:{uuid.uuid4().hex}"
    with _once(source_key):
        member = _lock_member(member_id)
        replay = _replay(
            source_key,
            member_id=member.pk,
            kinds={PointsEntryKind.ADJUST},
            points=points,
            signed=True,
        )
        if replay is not None:
            return replay
        common: dict[str, Any] = {
            "member_id": member.pk,
            "kind": PointsEntryKind.ADJUST,
            "source_key": source_key,
            "document": "",
            "actor": actor,
            "reason": reason,
        }
        if points > 0:
            entry = _credit(points=points, now=clock.now(), **common)
        else:
            entry = _debit(points=-points, **common)
        audit.record(
            actor=actor,
            action="points.adjusted",
            subject=member,
            changes={"points_available": [f"{points:+d}"], "entry_id": entry.pk},
            reason=reason,
        )
        return entry


# --- spending and holds ---------------------------------------------------------------------


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
    _require_points(points)
    with _once(source_key):
        member = _lock_member(member_id)
        replay = _replay(
            source_key, member_id=member.pk, kinds={PointsEntryKind.SPEND}, points=points
        )
        if replay is not None:
            return replay
        now = now or clock.now()
        _release_lapsed_holds(member_id=member.pk, now=now)
        _expire_overdue(member_id=member.pk, now=now)
        return _debit(
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
    _require_points(points)
    if purpose not in HoldPurpose.values:
        raise InvalidPointsError("Unknown hold purpose.", purpose=purpose)
    with _once(source_key):
        member = _lock_member(member_id)
        existing = PointsHold.objects.filter(source_key=source_key).first()
        if existing is not None:
            if existing.member_id != member.pk or existing.points != points:
                raise PointsConflictError(source_key=source_key, hold_id=existing.pk)
            return existing
        now = clock.now()
        _release_lapsed_holds(member_id=member.pk, now=now)
        _expire_overdue(member_id=member.pk, now=now)
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
        _post(
            member_id=member.pk,
            kind=PointsEntryKind.HOLD,
            available=-points,
            held=points,
            source_key=source_key,
            actor=actor,
            document=reference,
            hold=hold,
        )
        taken = _take_from_lots(member_id=member.pk, points=points)
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
    with _once(source_key):
        member = _lock_member(_hold_member_id(hold_id))
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
        return _post(
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
        member = _lock_member(_hold_member_id(hold_id))
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
        entry = _post(
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
            _new_lot(
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


def _release_lapsed_holds(*, member_id: int, now: datetime) -> None:
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


# --- expiry and merges ------------------------------------------------------------------------


def expire_points(*, now: datetime | None = None) -> int:
    """Expire every lot past its ``expires_at`` (one EXPIRE entry per lot); how many."""
    now = now or clock.now()
    expired = 0
    after = 0
    while True:
        member_ids = list(
            PointsLot.objects.filter(remaining__gt=0, expires_at__lte=now, member_id__gt=after)
            .order_by("member_id")
            .values_list("member_id", flat=True)
            .distinct()[:BATCH]
        )
        if not member_ids:
            return expired
        for member_id in member_ids:
            with transaction.atomic():
                Member.objects.select_for_update().filter(pk=member_id).first()
                expired += _expire_overdue(member_id=member_id, now=now)
        after = member_ids[-1]


def _recompute_balances(member_id: int) -> None:
    totals = PointsEntry.objects.filter(member_id=member_id).aggregate(
        available=Coalesce(Sum("available_delta"), 0),
        held=Coalesce(Sum("held_delta"), 0),
        pending=Coalesce(Sum("pending_delta"), 0),
    )
    Member.objects.filter(pk=member_id).update(
        points_available=totals["available"],
        points_held=totals["held"],
        points_pending=totals["pending"],
        updated_at=Now(),
    )


def move_history(*, from_member_id: int, to_member_id: int) -> None:
    """Move a duplicate's points history (entries, lots, holds) to the survivor.

    For ``merge_members``: call inside its transaction. Both members are locked in
    primary-key order; both cached balances are recomputed from the ledger afterwards.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("move_history must run inside the merge's transaction")
    if from_member_id == to_member_id:
        raise InvalidPointsError("A member cannot be merged into itself.")
    ids = sorted((from_member_id, to_member_id))
    locked = list(Member.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(locked) != 2:
        raise MemberNotFoundError(member_ids=ids)
    PointsEntry.objects.filter(member_id=from_member_id).update(member_id=to_member_id)
    PointsLot.objects.filter(member_id=from_member_id).update(member_id=to_member_id)
    PointsHold.objects.filter(member_id=from_member_id).update(member_id=to_member_id)
    for member_id in ids:
        _recompute_balances(member_id)
