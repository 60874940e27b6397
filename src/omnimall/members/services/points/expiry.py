"""Points expire by lot: one ``EXPIRE`` entry per lot past its ``expires_at``."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.members.models import Member, PointsEntry, PointsEntryKind, PointsLot

from ._ledger import post
from .errors import PointsLedgerError

BATCH = 500
EXPIRY_ACTOR = Actor.system("points expiry")


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


def expire_overdue(*, member_id: int, now: datetime) -> int:
    """Expire the member's lots past their expiry: one EXPIRE entry per lot."""
    lots = list(
        PointsLot.objects.filter(member_id=member_id, remaining__gt=0, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", "remaining", "expires_at")
    )
    for lot_id, remaining, expires_at in lots:
        post(
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
                expired += expire_overdue(member_id=member_id, now=now)
        after = member_ids[-1]
