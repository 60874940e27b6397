"""``omnimall manage deliver_outbox [--loop] [--interval S] [--limit N]``.

Delivers due outbox messages once, or keeps doing so (``--loop``): a small worker for a
machine without Celery. Each round that did something prints its counts.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from omnimall.core import outbox


class Command(BaseCommand):
    help = "Deliver due webhooks, emails and gateway notifications from the outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep delivering until Ctrl-C.")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between rounds (with --loop)."
        )
        parser.add_argument("--limit", type=int, default=100, help="Messages per round.")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = max(1, options["limit"])
        if not options["loop"]:
            self.stdout.write(f"{outbox.deliver_due(limit=limit)}; {self._backlog()}")
            return
        interval = max(0.1, options["interval"])
        self.stdout.write(f"Delivering every {interval:g}s (Ctrl-C to stop); {self._backlog()}")
        try:
            while True:
                close_old_connections()
                report = outbox.deliver_due(limit=limit)
                if report.delivered or report.failed or report.dead:
                    self.stdout.write(f"{report}; {self._backlog()}")
                if report.delivered + report.failed + report.dead < limit:
                    time.sleep(interval)  # else: more may be due right now
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def _backlog(self) -> str:
        counts = outbox.outbox_counts()
        return f"{counts.pending} pending, {counts.dead} dead letters"
