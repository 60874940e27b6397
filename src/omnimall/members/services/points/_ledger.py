"""The ledger's building blocks: posting, locking, lots. Call under the member's lock.

Every write of ``members.services.points`` is made of these (see the package docstring for
the rules they keep).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Now

from omnimall.core.actors import Actor
from omnimall.members.domain import MAX_POINTS_PER_ENTRY, Lot, add_months, take_from_lots
from omnimall.members.models import Member, PointsEntry, PointsHold, PointsLot

from .errors import (
    InsufficientPointsError,
    InvalidPointsError,
    MemberNotFoundError,
    PointsConflictError,
    PointsLedgerError,
)


def require_points(points: object, *, allow_zero: bool = False) -> int:
    """``points`` as a count a service may be asked to move: a whole number above 0 (or
    0 when allowed), at most ``MAX_POINTS_PER_ENTRY`` — checked before anything is
    written (``post`` checks every entry again)."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise InvalidPointsError(points=points)
    if points < 0 or (points == 0 and not allow_zero):
        raise InvalidPointsError(points=points)
    if points > MAX_POINTS_PER_ENTRY:
        raise _too_many(points)
    return points


def _too_many(points: int) -> InvalidPointsError:
    return InvalidPointsError(
        f"A points entry moves at most {MAX_POINTS_PER_ENTRY:,} points; {points:,} asked.",
        points=points,
        most=MAX_POINTS_PER_ENTRY,
    )


def lock_member(member_id: int) -> Member:
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
def once(source_key: str) -> Iterator[None]:
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


def replay_of(
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


def post(
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
    """Move the cached balances by the deltas (never below zero) and append the entry.

    The one place every entry is written: each delta is at most ``MAX_POINTS_PER_ENTRY``
    either way (``InvalidPointsError``, 422), whatever computed it.
    """
    largest = max(abs(available), abs(held), abs(pending))
    if largest > MAX_POINTS_PER_ENTRY:
        raise _too_many(largest)
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


def new_lot(*, member_id: int, entry: PointsEntry, points: int, now: datetime) -> PointsLot:
    return PointsLot.objects.create(
        member_id=member_id,
        entry=entry,
        points=points,
        remaining=points,
        available_at=now,
        expires_at=add_months(now, int(settings.POINTS_EXPIRY_MONTHS)),
    )


def take_points_from_lots(*, member_id: int, points: int) -> dict[int, int]:
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


def credit(
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
    entry = post(
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
    new_lot(member_id=member_id, entry=entry, points=points, now=now)
    return entry


def debit(
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
    entry = post(
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
        take_points_from_lots(member_id=member_id, points=points)
    return entry
