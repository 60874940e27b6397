"""Demo data only: a history dated in the past, and the outbox held while it is written.

The demo's order history (``orders.demo``) is made through the real services, which stamp
every row with the current time (``auto_now_add``, ``clock.now()``). ``TimeMap`` records,
step by step, when each step really ran and when it is meant to have happened; each app
then moves its own rows of that history there with ``QuerySet.update`` (``shift``).
Nothing outside demo loaders may use it: real records keep the time they were written.

``outbox_held`` keeps the messages the history queues from being sent one commit at a
time while it is written (with no broker, the demo sends on commit): the bank's payment
notifications would go to a shop that is not serving yet, and fail. The emails are sent
afterwards in one delivery run (the demo's file backend writes them to one file).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from omnimall.celery import app as celery_app
from omnimall.core import clock, wakeups
from omnimall.core.models import OutboxKind, OutboxMessage, OutboxState
from omnimall.core.outbox import deliver_due
from omnimall.core.outbox.enqueue import DELIVER_TASK


@dataclass
class TimeMap:
    """Real time → demo time, piecewise: what was written after ``mark(moment)`` (and
    before the next mark) moves by ``moment`` minus the real time of that mark, so each
    step lands at its moment and rows keep their order within it.

    Times before the first mark or after ``close()`` are left alone (a row older than this
    piece of history; a deadline set ahead, such as a hold's end).
    """

    marks: list[tuple[datetime, datetime]] = field(default_factory=list)  # (real, demo)
    end: datetime | None = None

    def mark(self, moment: datetime) -> None:
        """What is written from now on happened at ``moment`` (which never goes back)."""
        if self.end is not None:
            raise RuntimeError("this time map is closed")
        if self.marks and moment <= self.marks[-1][1]:
            raise ValueError("demo moments must go forward")
        self.marks.append((clock.now(), moment))

    def close(self) -> None:
        self.end = clock.now()

    @property
    def first_shift(self) -> timedelta:
        """How far the first step moved (for deadlines it set ahead of itself)."""
        real, demo = self.marks[0]
        return demo - real

    def _segments(self) -> list[tuple[datetime, timedelta]]:
        """(real end of the step, its shift), in order."""
        if self.end is None:
            raise RuntimeError("close the time map first")
        ends = [real for real, _ in self.marks[1:]] + [self.end]
        return [(end, demo - real) for (real, demo), end in zip(self.marks, ends, strict=True)]

    def moment(self, real: datetime) -> datetime:
        """Where ``real`` lands (as ``shift`` moves it in the database)."""
        if not self.marks or real < self.marks[0][0]:
            return real
        for end, delta in self._segments():
            if real <= end:
                return real + delta
        return real

    def shift(self, queryset: QuerySet[Any], *columns: str, ahead: str = "") -> int:
        """Move ``columns`` of the rows in ``queryset`` as ``moment`` moves them, and the
        deadline column ``ahead`` (set ahead of its step) by ``first_shift``: one read,
        then ``QuerySet.update`` for each row that moves. Returns how many rows moved."""
        if not self.marks:
            return 0
        names = [*columns, *([ahead] if ahead else [])]
        manager = queryset.model._base_manager
        moved = 0
        for pk, *values in queryset.values_list("pk", *names):
            changes = {
                name: self.moment(value)
                for name, value in zip(columns, values, strict=False)
                if value is not None
            }
            if ahead and values[-1] is not None:
                changes[ahead] = values[-1] + self.first_shift
            if changes:
                moved += manager.filter(pk=pk).update(**changes)
        return moved


@contextmanager
def outbox_held() -> Iterator[None]:
    """Nothing queued in the block is sent on commit; afterwards its emails and text
    messages are sent in one delivery run (or the worker is woken, with a broker). The
    payment gateway's notifications are never tried here: no server answers while demo
    data loads, and the loaders settle them in-process (``payments.demo`` records them
    delivered)."""
    deliver_on_commit = settings.OUTBOX_DELIVER_ON_COMMIT
    started = clock.now()
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    try:
        yield
    finally:
        settings.OUTBOX_DELIVER_ON_COMMIT = deliver_on_commit
    if not deliver_on_commit:
        return  # the shop sends with its worker: it will take these too
    emails = list(
        OutboxMessage.objects.filter(
            kind__in=(OutboxKind.EMAIL, OutboxKind.SMS),
            state=OutboxState.PENDING,
            created_at__gte=started,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not emails:
        return
    if celery_app.conf.task_always_eager:  # no broker (the demo): send them here
        deliver_due(message_ids=emails, limit=len(emails))
    else:
        wakeups.wake(DELIVER_TASK)
