"""Staff corrections (``adjust_points``) and member merges (``move_history``)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce, Now

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.members.models import Member, PointsEntry, PointsEntryKind, PointsHold, PointsLot

from ._ledger import credit, debit, lock_member, once, replay_of
from .errors import InvalidPointsError, MemberNotFoundError, PointsReasonRequiredError

# The most one staff correction may move: 10 million points (¥100,000 at 100 points = ¥1),
# far beyond any real goodwill gesture, and far below what a balance column holds, so a
# typo cannot corrupt a balance or overflow the ledger's sums.
MAX_ADJUSTMENT = 10_000_000


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
    if abs(points) > MAX_ADJUSTMENT:
        raise InvalidPointsError(points=points, most=MAX_ADJUSTMENT)
    reason = (reason or "").strip()
    if not reason:
        raise PointsReasonRequiredError()
    source_key = source_key or f"adjust:{uuid.uuid4().hex}"
    with once(source_key):
        member = lock_member(member_id)
        replay = replay_of(
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
            entry = credit(points=points, now=clock.now(), **common)
        else:
            entry = debit(points=-points, **common)
        audit.record(
            actor=actor,
            action="points.adjusted",
            subject=member,
            changes={"points_available": [f"{points:+d}"], "entry_id": entry.pk},
            reason=reason,
        )
        return entry


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
