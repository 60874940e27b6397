"""The delivery worker: claim due messages, send them, record each outcome.

Claiming and recording are short transactions; the network I/O happens between them,
with no transaction open and no row locked:

1. **Claim** a chunk of due messages (``pending`` and ``next_attempt_at`` empty or past,
   lowest id first), in one statement (``rows.claim``). On PostgreSQL the candidates are
   read ``FOR UPDATE SKIP LOCKED``, so parallel workers take different rows. The claim
   itself is a conditional update that moves ``next_attempt_at`` to a lease deadline
   unique to this claim and returns the rows it moved: those are the ones this worker
   owns (on SQLite, where writes are serialised, the condition alone keeps two workers
   apart). A chunk that comes back short means nothing more was due. A worker that dies
   mid-chunk leaves its messages to be picked up again when the lease runs out.
2. **Send** each message (``transports``).
3. **Record** the outcome, only if the message still carries this worker's lease:
   delivered; or a failed attempt with the next one after a back-off; or, after the last
   attempt, a dead letter for staff to retry from the back office.

Delivery is at-least-once: a receiver may see the same ``X-Omnimall-Delivery`` twice
(e.g. the worker stopped between sending and recording) and should ignore repeats.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from omnimall.core import clock
from omnimall.core.models import OutboxMessage, OutboxState

from . import rows, transports
from .backoff import retry_delay

logger = logging.getLogger(__name__)

CHUNK = 10
MAX_ERROR_LENGTH = 2000


@dataclass(slots=True)
class DeliveryReport:
    delivered: int = 0
    failed: int = 0  # failed this time, another attempt scheduled
    dead: int = 0  # failed for the last time: now dead letters
    # The run stopped at its limit with its last claim full: more may be due now.
    stopped_at_limit: bool = False

    def as_dict(self) -> dict[str, int]:
        return {"delivered": self.delivered, "failed": self.failed, "dead": self.dead}

    def __str__(self) -> str:
        return f"delivered {self.delivered}, failed {self.failed} (will retry), dead {self.dead}"


def _lease() -> timedelta:
    # Long enough for a whole chunk to time out one message after another.
    return timedelta(seconds=CHUNK * float(settings.OUTBOX_HTTP_TIMEOUT) * 2 + 60)


def _due(at: datetime) -> Q:
    return Q(state=OutboxState.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at)
    )


def claim_due(
    *, at: datetime, size: int, message_ids: Sequence[int] | None = None
) -> list[OutboxMessage]:
    """Take up to ``size`` due messages for this worker (see the module docstring)."""
    lease_until = at + _lease() + timedelta(microseconds=secrets.randbelow(1_000_000))
    return rows.claim(at=at, lease_until=lease_until, size=size, message_ids=message_ids)


def record_outcome(
    message: OutboxMessage, result: transports.Result, *, at: datetime
) -> OutboxState | None:
    """Store what happened to one claimed message; returns its new state (None if the
    claim was lost meanwhile, e.g. staff retried it by hand)."""
    attempts = message.attempts + 1
    if result.ok:
        changed = rows.finish(
            message,
            state=OutboxState.DELIVERED,
            attempts=attempts,
            delivered_at=at,
            next_attempt_at=None,
        )
        return OutboxState.DELIVERED if changed else None
    error = result.error[:MAX_ERROR_LENGTH]
    if result.permanent or attempts >= message.max_attempts:
        changed = rows.finish(
            message,
            state=OutboxState.DEAD,
            attempts=attempts,
            last_error=error,
            next_attempt_at=None,
        )
        if changed:
            logger.warning("Outbox message %s is a dead letter: %s", message.pk, error)
        return OutboxState.DEAD if changed else None
    changed = rows.finish(
        message,
        attempts=attempts,
        last_error=error,
        next_attempt_at=at + retry_delay(message.kind, attempts),
    )
    return OutboxState.PENDING if changed else None


def deliver_due(
    *, now: datetime | None = None, limit: int = 100, message_ids: Sequence[int] | None = None
) -> DeliveryReport:
    """Deliver up to ``limit`` due messages (only ``message_ids``, when given).

    ``now`` fixes the clock (tests); by default each step uses the current time.
    """
    current: Callable[[], datetime] = (lambda: now) if now is not None else clock.now
    report = DeliveryReport()
    remaining = limit
    with transports.email_session():  # one SMTP session for the run's emails
        while remaining > 0:
            size = min(CHUNK, remaining)
            claimed = claim_due(at=current(), size=size, message_ids=message_ids)
            if not claimed:
                break
            remaining -= len(claimed)
            if len(claimed) < size:  # nothing more was due: no second claim to find that out
                remaining = 0
            elif remaining == 0:
                report.stopped_at_limit = True
            for message in claimed:
                state = record_outcome(message, transports.send(message), at=current())
                if state == OutboxState.DELIVERED:
                    report.delivered += 1
                elif state == OutboxState.DEAD:
                    report.dead += 1
                elif state == OutboxState.PENDING:
                    report.failed += 1
    return report
