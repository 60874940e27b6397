"""Reads of the points ledger: a member's history, ledger checks and the liability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from omnimall.core import clock
from omnimall.members.models import Member, PointsEntry, PointsHold, PointsLot

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class LedgerMismatch:
    member_id: int
    cached: tuple[int, int, int]  # available, held, pending on the member row
    ledger: tuple[int, int, int]  # the sums of the entries' deltas
    lots: int  # sum of open lots' remaining (must equal available)

    def as_dict(self) -> dict[str, object]:
        return {
            "member_id": self.member_id,
            "cached": list(self.cached),
            "ledger": list(self.ledger),
            "lots": self.lots,
        }


def _sum_of(model: type[PointsEntry] | type[PointsLot], field: str) -> Coalesce:
    rows = (
        model.objects.filter(member_id=OuterRef("pk"))
        .order_by()
        .values("member_id")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def ledger_mismatches(*, member_ids: list[int] | None = None) -> list[LedgerMismatch]:
    """Members whose cached balances differ from their entries, or lots from available.

    Empty when the ledger is sound; ``check_points_ledger`` and every race test use it.
    """
    members = Member.objects.all()
    if member_ids is not None:
        members = members.filter(pk__in=member_ids)
    rows = (
        members.annotate(
            ledger_available=_sum_of(PointsEntry, "available_delta"),
            ledger_held=_sum_of(PointsEntry, "held_delta"),
            ledger_pending=_sum_of(PointsEntry, "pending_delta"),
            lots_remaining=_sum_of(PointsLot, "remaining"),
        )
        .filter(
            ~Q(points_available=F("ledger_available"))
            | ~Q(points_held=F("ledger_held"))
            | ~Q(points_pending=F("ledger_pending"))
            | ~Q(points_available=F("lots_remaining"))
        )
        .order_by("pk")
        .values_list(
            "pk",
            "points_available",
            "points_held",
            "points_pending",
            "ledger_available",
            "ledger_held",
            "ledger_pending",
            "lots_remaining",
        )
    )
    return [
        LedgerMismatch(
            member_id=row[0],
            cached=(row[1], row[2], row[3]),
            ledger=(row[4], row[5], row[6]),
            lots=row[7],
        )
        for row in rows
    ]


def held_mismatches() -> list[int]:
    """Members whose ``points_held`` differs from the points of their holds still held."""
    held = (
        PointsHold.objects.filter(member_id=OuterRef("pk"), state="held")
        .order_by()
        .values("member_id")
        .annotate(total=Sum("points"))
        .values("total")
    )
    return list(
        Member.objects.annotate(
            holds=Coalesce(Subquery(held, output_field=IntegerField()), Value(0))
        )
        .exclude(points_held=F("holds"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- history ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointsLine:
    entry_id: int
    kind: str
    kind_label: str
    available_delta: int
    held_delta: int
    pending_delta: int
    document: str
    reason: str
    actor_label: str
    created_at: datetime


def points_history(member_id: int, limit: int = 50) -> list[PointsLine]:
    """The member's latest ledger entries, newest first."""
    rows = PointsEntry.objects.filter(member_id=member_id).order_by("-created_at", "-id")[:limit]
    return [
        PointsLine(
            entry_id=entry.pk,
            kind=entry.kind,
            kind_label=str(entry.get_kind_display()),
            available_delta=entry.available_delta,
            held_delta=entry.held_delta,
            pending_delta=entry.pending_delta,
            document=entry.document,
            reason=entry.reason,
            actor_label=entry.actor_label,
            created_at=entry.created_at,
        )
        for entry in rows
    ]


# --- liability --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiabilityMonth:
    month: date  # first day of the month the points expire in
    points: int
    value: Decimal


@dataclass(frozen=True, slots=True)
class Liability:
    as_of: datetime
    available: int
    held: int
    pending: int
    points_per_cny: int
    months: tuple[LiabilityMonth, ...]

    @property
    def points(self) -> int:
        return self.available + self.held + self.pending

    @property
    def value(self) -> Decimal:
        return _value(self.points, self.points_per_cny)

    @property
    def available_value(self) -> Decimal:
        return _value(self.available, self.points_per_cny)

    @property
    def held_value(self) -> Decimal:
        return _value(self.held, self.points_per_cny)

    @property
    def pending_value(self) -> Decimal:
        return _value(self.pending, self.points_per_cny)


def _value(points: int, points_per_cny: int) -> Decimal:
    return (Decimal(points) / Decimal(points_per_cny)).quantize(CENT, rounding=ROUND_HALF_UP)


def points_liability(now: datetime | None = None) -> Liability:
    """Points the brand still owes (available + held + pending), and their value in CNY.

    ``months``: the available points by the month their lots expire (held and pending
    points have no expiry yet: held ones return to their lots or are spent, pending ones
    get a lot when they mature).
    """
    now = now or clock.now()
    per_cny = int(settings.POINTS_PER_CNY_VALUE)
    totals = Member.objects.aggregate(
        available=Coalesce(Sum("points_available"), 0),
        held=Coalesce(Sum("points_held"), 0),
        pending=Coalesce(Sum("points_pending"), 0),
    )
    by_month = (
        PointsLot.objects.filter(remaining__gt=0)
        .annotate(month=TruncMonth("expires_at"))
        .order_by("month")
        .values("month")
        .annotate(points=Sum("remaining"))
        .values_list("month", "points")
    )
    months = tuple(
        LiabilityMonth(
            month=month.date() if isinstance(month, datetime) else month,
            points=int(points),
            value=_value(int(points), per_cny),
        )
        for month, points in by_month
    )
    return Liability(
        as_of=now,
        available=int(totals["available"]),
        held=int(totals["held"]),
        pending=int(totals["pending"]),
        points_per_cny=per_cny,
        months=months,
    )
