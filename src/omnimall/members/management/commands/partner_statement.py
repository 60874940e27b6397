"""``omnimall manage partner_statement PARTNER DATE [--out FILE]``: the day's transfers
with a partner as CSV (transaction_id, direction, member_card, partner_points,
brand_points, state, time, partner_account), the file a partner reconciles against.
Days are shop days (TIME_ZONE, Asia/Shanghai). Format in docs/partners.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from omnimall.core.days import day_argument
from omnimall.members.partners import domain, selectors


class Command(BaseCommand):
    help = "Write a partner's daily transfer statement (CSV) to --out or standard output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("partner", help="the partner's code")
        parser.add_argument("date", type=day_argument, help="the day, YYYY-MM-DD")
        parser.add_argument("--out", help="write to this file instead of standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        partner = selectors.get_partner(options["partner"])
        if partner is None:
            raise CommandError(f"Unknown partner {options['partner']!r}.", returncode=2)
        start, end = selectors.day_window(options["date"])
        rows = selectors.statement_rows(partner_id=partner.pk, start=start, end=end)
        if options["out"]:
            path = Path(options["out"])
            try:
                with path.open("w", newline="", encoding="utf-8") as handle:
                    count = domain.write_statement(rows, handle)
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror}", returncode=2) from exc
            self.stderr.write(f"{count} transfer(s) written to {path}.")
        else:
            domain.write_statement(rows, self.stdout)  # type: ignore[arg-type]
