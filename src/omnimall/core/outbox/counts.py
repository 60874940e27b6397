"""How many messages wait and how many gave up: for the back office and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from omnimall.core.models import OutboxMessage, OutboxState


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    pending: int
    dead: int


def outbox_counts() -> OutboxCounts:
    """One statement; ``state`` is read from the table (the dead letters stay few)."""
    row = OutboxMessage.objects.aggregate(
        pending=Count("pk", filter=Q(state=OutboxState.PENDING)),
        dead=Count("pk", filter=Q(state=OutboxState.DEAD)),
    )
    return OutboxCounts(pending=row["pending"], dead=row["dead"])
