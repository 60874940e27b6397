"""``omnimall manage import_stock FILE.csv [--report REJECTS.csv] [--dry-run]``.

A nightly stock file: CSV with the columns ``location``, ``sku``, ``count`` (absolute
counts, like a stock report). Every row is validated first; if any is rejected, the
rejected rows are written with their reasons to the report and nothing changes (exit
code 1). Otherwise the whole file is applied in one transaction.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from omnimall.core.actors import Actor
from omnimall.inventory.services.imports import (
    StockFileError,
    import_stock_counts,
    read_count_rows,
)
from omnimall.inventory.services.stock_rows import CountRow, RowError, RowsRejectedError

REPORT_COLUMNS = ("row", "location", "sku", "count", "code", "message")


def _write_report(path: Path, errors: tuple[RowError, ...], rows: list[CountRow]) -> None:
    counts = {row.row: row.count for row in rows}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for error in errors:
            count = counts.get(error.row) if error.row is not None else ""
            writer.writerow(
                [error.row, error.location, error.sku, count, error.code, error.message]
            )


class Command(BaseCommand):
    help = (
        "Import absolute stock counts from a CSV (columns: location, sku, count). Validates "
        "every row first; any rejected row writes a report and changes nothing (exit 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV file")
        parser.add_argument(
            "--report",
            type=Path,
            default=None,
            help="where to write rejected rows (default: FILE.rejects.csv beside the file)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count changes; write nothing"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        report: Path = options["report"] or path.with_name(f"{path.stem}.rejects.csv")
        started = time.perf_counter()
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = read_count_rows(handle)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text") from exc
        except StockFileError as exc:
            raise CommandError(f"{path}: {exc.message} ({exc.details})") from exc
        try:
            result = import_stock_counts(
                rows=rows,
                actor=Actor.system(f"import_stock:{path.name}"),
                source=path.name,
                dry_run=options["dry_run"],
                progress=options["verbosity"] > 0 and not options["no_progress"],
            )
        except RowsRejectedError as rejected:
            _write_report(report, rejected.errors, rows)
            raise CommandError(
                f"{len(rejected.errors)} problem(s) in {len(rows)} rows; nothing was changed. "
                f"Rejected rows: {report}"
            ) from rejected
        seconds = time.perf_counter() - started
        verb = "would change" if result.dry_run else "changed"
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.rows} rows checked, {verb} {result.changed} stock levels "
                f"(+{result.units_added} / -{result.units_removed} units) in {seconds:.1f} s"
                + (" (dry run: nothing written)" if result.dry_run else "")
            )
        )
