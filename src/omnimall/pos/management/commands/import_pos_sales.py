"""``omnimall manage import_pos_sales FILE [--report REJECTED.csv]``: a day's till receipts.

FILE is JSON lines (``.jsonl``: one ``POST /api/v1/pos/sales`` body per line) or CSV
(``.csv``: one row per receipt line; columns in ``pos.services.reading``). The file is
streamed (never loaded whole) and applied through the batch path, each receipt exactly
once: a receipt already recorded is replayed, not applied twice, so a file can be
imported again after an interruption. Rejected receipts go to the report (store,
receipt, line in the file, code, reason).

``--results PATH`` also writes every receipt's result (created, flagged, replayed, rejected).

Exit status: 0 every receipt applied (or already there), 1 some rejected, 2 the file
cannot be read.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from omnimall.core.actors import Actor
from omnimall.pos.models import ReceiptSource
from omnimall.pos.services.batch import DEFAULT_CHUNK, ReceiptResult, ingest_receipts
from omnimall.pos.services.reading import PosFileError, file_format, read_sales

REPORT_COLUMNS = ("store", "receipt", "line", "code", "reason")


class Command(BaseCommand):
    help = (
        "Import till receipts from a JSON-lines (.jsonl) or CSV (.csv) file through the POS "
        "batch path. Exit 0: all applied; 1: some rejected (see --report); 2: unreadable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the receipts file (.jsonl or .csv)")
        parser.add_argument(
            "--report",
            type=Path,
            default=None,
            help="where to write rejected receipts (default: FILE.rejected.csv beside it)",
        )
        parser.add_argument(
            "--results",
            type=Path,
            default=None,
            help="also write every receipt's result to this CSV (store, receipt, status, code, "
            "message)",
        )
        parser.add_argument(
            "--chunk", type=int, default=DEFAULT_CHUNK, help="receipts decided together"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        report_path: Path = options["report"] or path.with_name(f"{path.stem}.rejected.csv")
        try:
            file_format(path)
            size = path.stat().st_size
        except PosFileError as error:
            raise CommandError(error.message, returncode=2) from error
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}", returncode=2) from error
        report_path.unlink(missing_ok=True)  # an old report must not outlive its import
        show = options["verbosity"] > 0 and not options["no_progress"]
        started = time.perf_counter()
        with (
            tqdm(total=size, unit="B", unit_scale=True, desc=path.name, disable=not show) as bar,
            _Rejections(report_path) as rejections,
            _Results(options["results"]) as results,
        ):
            try:
                report = ingest_receipts(
                    sales=read_sales(path, on_bytes=bar.update),
                    source=ReceiptSource.FILE,
                    actor=Actor.system(f"import_pos_sales:{path.name}"),
                    chunk=max(1, options["chunk"]),
                    on_result=results.tee(rejections.add),
                    keep_results=False,
                )
            except PosFileError as error:
                raise CommandError(
                    f"{path}: {error.message} (receipts before it were applied; importing "
                    "the file again replays them)",
                    returncode=2,
                ) from error
        seconds = time.perf_counter() - started
        counts = report.counts()
        summary = (
            f"{counts['total']} receipts in {seconds:.1f} s: {counts['created']} created, "
            f"{counts['flagged']} flagged for staff, {counts['replayed']} already recorded, "
            f"{counts['rejected']} rejected"
        )
        if report.rejected:
            raise CommandError(f"{summary}. Rejected receipts: {report_path}", returncode=1)
        self.stdout.write(self.style.SUCCESS(summary))


class _Rejections:
    """The report of rejected receipts, written as they come (created only when needed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: Any = None
        self.writer: Any = None

    def __enter__(self) -> _Rejections:
        return self

    def add(self, result: ReceiptResult) -> None:
        if result.status != "rejected":
            return
        if self.writer is None:
            self.handle = self.path.open("w", newline="", encoding="utf-8")
            self.writer = csv.writer(self.handle)
            self.writer.writerow(REPORT_COLUMNS)
        line = "" if result.line is None else result.line
        self.writer.writerow(
            [result.store, result.receipt_number, line, result.code, result.message]
        )

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


class _Results:
    """Every receipt's result, written as it comes (``--results``); nothing without a path."""

    COLUMNS = ("store", "receipt", "status", "code", "message")

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.handle: Any = None
        self.writer: Any = None

    def __enter__(self) -> _Results:
        if self.path is not None:
            self.handle = self.path.open("w", newline="", encoding="utf-8")
            self.writer = csv.writer(self.handle)
            self.writer.writerow(self.COLUMNS)
        return self

    def tee(self, then: Callable[[ReceiptResult], object]) -> Callable[[ReceiptResult], None]:
        def both(result: ReceiptResult) -> None:
            if self.writer is not None:
                self.writer.writerow(
                    [
                        result.store,
                        result.receipt_number,
                        result.status,
                        result.code,
                        result.message,
                    ]
                )
            then(result)

        return both

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()
