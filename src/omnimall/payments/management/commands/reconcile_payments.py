"""``omnimall manage reconcile_payments FILE.csv``: a gateway's settlement file against
the payments ledger. Exit code 0 when they agree, 1 on any mismatch, 2 for a file that
cannot be read. The format is in docs/payments.md."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from omnimall.core.days import day_argument
from omnimall.payments import domain, selectors
from omnimall.payments.gateways import gateway_codes


def _window(rows: list[domain.SettlementRow], day: date | None) -> tuple[datetime, datetime] | None:
    """The whole days (shop time zone) the file covers, or ``--date``'s day."""
    if day is not None:
        first = last = day
    elif rows:
        days = [timezone.localtime(row.time).date() for row in rows]
        first, last = min(days), max(days)
    else:
        return None
    start = timezone.make_aware(datetime.combine(first, time.min))
    return start, timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))


class Command(BaseCommand):
    help = (
        "Match a gateway settlement file (CSV: trade_no,out_trade_no,refund_no,type,amount,"
        "currency,time) against the payments ledger and report every mismatch. Exit code "
        "0 when clean, 1 on mismatches, 2 when the file cannot be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the settlement CSV file")
        parser.add_argument("--gateway", default="sandbox", choices=gateway_codes())
        parser.add_argument(
            "--date",
            type=day_argument,
            help="the day the file covers (YYYY-MM-DD); default: the days of its rows",
        )

    def _read(self, path: Path) -> list[domain.SettlementRow]:
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                return domain.parse_settlement(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}", returncode=2) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text.", returncode=2) from exc
        except domain.MalformedSettlementError as exc:
            raise CommandError(f"Malformed settlement file {path}: {exc}", returncode=2) from exc

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        gateway = options["gateway"]
        rows = self._read(path)
        window = _window(rows, options["date"])
        by_document = selectors.ledger_rows_by_document(
            gateway=gateway, documents={(row.type, row.document) for row in rows}
        )
        in_window = (
            list(selectors.iter_ledger_rows(gateway=gateway, start=window[0], end=window[1]))
            if window
            else []
        )
        mismatches = domain.match_settlement(rows, by_document, in_window)
        for mismatch in mismatches:
            self.stdout.write(mismatch.describe())
        period = (
            "no rows"
            if window is None
            else (
                f"{timezone.localtime(window[0]).date()} to "
                f"{timezone.localtime(window[1] - timedelta(seconds=1)).date()}"
            )
        )
        summary = (
            f"{len(rows)} file row(s), {len(in_window)} ledger entr(y/ies) in the period "
            f"({period}), gateway {gateway}"
        )
        if mismatches:
            raise CommandError(
                f"Settlement does not reconcile: {len(mismatches)} mismatch(es); {summary}.",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"Settlement reconciles: {summary}."))
