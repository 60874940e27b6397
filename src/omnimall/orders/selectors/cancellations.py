"""Why orders are cancelled: of the orders placed in a period, how many were cancelled and
for which reason (``Order.cancel_reason``), for the back office's report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q

from omnimall.orders import domain
from omnimall.orders.models import CancelReason


@dataclass(frozen=True, slots=True)
class ReasonCount:
    reason: str  # a ``CancelReason`` value; "" for orders cancelled before reasons were kept
    label: str
    orders: int
    share: float  # of the cancelled orders, 0..100


@dataclass(frozen=True, slots=True)
class Cancellations:
    placed: int  # orders placed in the period
    cancelled: int  # …of which cancelled
    reasons: tuple[ReasonCount, ...]  # the most frequent first

    @property
    def rate(self) -> float:
        """The cancelled share of the orders placed, 0..100."""
        return 100 * self.cancelled / self.placed if self.placed else 0.0


def count_cancellations(*, orders: Any, start: datetime, end: datetime) -> Cancellations:
    """Of ``orders`` (a queryset: the staff member's scope) placed in [``start``, ``end``):
    how many, how many cancelled, by reason. Two statements."""
    placed = orders.filter(placed_at__gte=start, placed_at__lt=end)
    total = placed.aggregate(
        placed=Count("pk"), cancelled=Count("pk", filter=Q(state=domain.CANCELLED))
    )
    rows = (
        placed.filter(state=domain.CANCELLED)
        .values_list("cancel_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "cancel_reason")
    )
    cancelled = int(total["cancelled"] or 0)
    labels = dict(CancelReason.choices)
    return Cancellations(
        placed=int(total["placed"] or 0),
        cancelled=cancelled,
        reasons=tuple(
            ReasonCount(
                reason=reason,
                label=str(labels.get(reason, "")),
                orders=n,
                share=100 * n / cancelled if cancelled else 0.0,
            )
            for reason, n in rows
        ),
    )
