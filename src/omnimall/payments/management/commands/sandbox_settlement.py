"""``omnimall manage sandbox_settlement --date YYYY-MM-DD [--out FILE]``: the sandbox
gateway's settlement file for one day, to feed ``reconcile_payments``."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from omnimall.core.days import day_argument
from omnimall.payments.gateways import sandbox_bank


class Command(BaseCommand):
    help = (
        "Write the sandbox gateway's settlement file (CSV) for one day (shop time zone): "
        "every payment and refund it took that day."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", required=True, type=day_argument, help="YYYY-MM-DD")
        parser.add_argument("--out", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        lines = list(sandbox_bank.settlement_lines(options["date"]))
        if not options["out"]:
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerows(lines)
            return
        path = Path(options["out"])
        try:
            with path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle, lineterminator="\n").writerows(lines)
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}") from exc
        self.stderr.write(f"{len(lines) - 1} row(s) written to {path}")
