"""Points come in: earned (pending or available), matured, reversed, restored, transferred in."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Sum
from django.db.models.functions import Coalesce

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.members.models import PointsEntry, PointsEntryKind

from ._ledger import credit, debit, lock_member, once, post, replay_of, require_points


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
    require_points(points, allow_zero=True)
    if points == 0:
        return None
    with once(source_key):
        member = lock_member(member_id)
        replay = replay_of(
            source_key, member_id=member.pk, kinds={PointsEntryKind.EARN}, points=points
        )
        if replay is not None:
            return replay
        if pending:
            return post(
                member_id=member.pk,
                kind=PointsEntryKind.EARN,
                pending=points,
                source_key=source_key,
                actor=actor,
                document=document,
            )
        return credit(
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
    with once(source_key):
        member = lock_member(earn.member_id)
        earn.refresh_from_db()
        replay = replay_of(source_key, member_id=member.pk, kinds={PointsEntryKind.MATURE})
        if replay is not None:
            return replay
        still = _pending_left(earn)
        if still <= 0:
            return None
        return credit(
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
    require_points(points, allow_zero=True)
    earn = _earn_entry(earn_source_key)
    if points == 0 or earn is None:
        return None
    with once(source_key):
        member = lock_member(earn.member_id)
        earn.refresh_from_db()
        replay = replay_of(source_key, member_id=member.pk, kinds={PointsEntryKind.REVERSE})
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
        return debit(
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
    return _credit_once(
        member_id=member_id,
        kind=PointsEntryKind.REVERSE,
        points=points,
        source_key=source_key,
        document=document,
        actor=actor,
        reason=reason,
    )


def transfer_in(
    *, member_id: int, points: int, source_key: str, document: str, actor: Actor
) -> PointsEntry:
    """Points converted in from a partner's programme: available at once, in a new lot."""
    return _credit_once(
        member_id=member_id,
        kind=PointsEntryKind.TRANSFER_IN,
        points=points,
        source_key=source_key,
        document=document,
        actor=actor,
    )


def _credit_once(
    *,
    member_id: int,
    kind: str,
    points: int,
    source_key: str,
    document: str,
    actor: Actor,
    reason: str = "",
) -> PointsEntry:
    """``points`` (> 0) of ``kind`` become available now, in a new lot; once per key."""
    require_points(points)
    with once(source_key):
        member = lock_member(member_id)
        replay = replay_of(source_key, member_id=member.pk, kinds={kind}, points=points)
        if replay is not None:
            return replay
        return credit(
            member_id=member.pk,
            kind=kind,
            points=points,
            source_key=source_key,
            document=document,
            actor=actor,
            now=clock.now(),
            reason=reason,
        )
