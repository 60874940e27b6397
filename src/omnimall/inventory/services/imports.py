"""Nightly stock files: absolute counts for many locations, 100,000+ rows at a time.

``import_stock_counts`` validates every row first and changes nothing if any row is bad
(``RowsRejectedError`` lists them all, for a report of rejected rows); otherwise it applies
the whole file in one transaction with the bulk machinery of ``reports`` (codes resolved
in a few queries, missing levels created in bulk, levels locked in primary-key order in
chunks, count-correction movements bulk-inserted, ``on_hand`` moved by ``F()`` deltas).
The ledger stays exact: every change of ``on_hand`` has its movement.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from tqdm import tqdm

from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.core.errors import ValidationFailedError

from .reports import apply_counts, level_snapshots, resolve_codes
from .stock_rows import (
    BatchResult,
    CountRow,
    LevelSnapshot,
    LineResult,
    Pair,
    RowsRejectedError,
    Target,
    check_count_rows,
)

COLUMNS = ("location", "sku", "count")


class StockFileError(ValidationFailedError):
    code = "invalid_stock_file"
    message = "The stock file is not a CSV with the columns location, sku, count."


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int
    changed: int
    units_added: int
    units_removed: int
    dry_run: bool


def read_count_rows(lines: Iterable[str]) -> list[CountRow]:
    """Rows of a CSV with a header naming ``location``, ``sku`` and ``count`` (any order,
    more columns ignored). ``row`` is the line number in the file (the header is line 1)."""
    reader = csv.DictReader(lines)
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise StockFileError(missing_columns=missing, found=header)
    reader.fieldnames = header
    rows = []
    for record in reader:
        count = record.get("count")
        rows.append(
            CountRow(
                row=reader.line_num,
                location=(record.get("location") or "").strip(),
                sku=(record.get("sku") or "").strip(),
                count=count.strip() if isinstance(count, str) else None,
            )
        )
    return rows


def _on_hand(levels: Mapping[Pair, LevelSnapshot], target: Target) -> int:
    level = levels.get((target.location_id, target.sku_id))
    return 0 if level is None else level.on_hand


def _summary(result: BatchResult, *, dry_run: bool) -> ImportResult:
    return ImportResult(
        rows=len(result.lines),
        changed=result.changed,
        units_added=result.units_added,
        units_removed=result.units_removed,
        dry_run=dry_run,
    )


def import_stock_counts(
    *,
    rows: Sequence[CountRow],
    actor: Actor,
    source: str,
    dry_run: bool = False,
    progress: bool = False,
) -> ImportResult:
    """Validate every row, then (unless ``dry_run``) set every count in one transaction.

    Raises ``RowsRejectedError`` with every bad row and writes nothing when any row is bad.
    ``source`` (e.g. the file name) goes into the movements' reference and the audit trail.
    """
    resolved = resolve_codes(rows)
    pairs = {
        (resolved.locations[row.location], resolved.skus[row.sku])
        for row in rows
        if row.location in resolved.locations and row.sku in resolved.skus
    }
    levels = level_snapshots(pairs)
    with tqdm(total=len(rows), desc="validate", unit="row", disable=not progress) as bar:
        targets, errors = check_count_rows(
            rows,
            locations=resolved.locations,
            skus=resolved.skus,
            levels=levels,
            tick=bar.update,
        )
    if errors:
        raise RowsRejectedError(errors)
    # What the file would change, from the unlocked read (the apply step re-reads locked).
    preview = BatchResult(
        lines=tuple(
            LineResult(t.row, t.location, t.sku, before=_on_hand(levels, t), after=t.value)
            for t in targets
        )
    )
    if dry_run:
        return _summary(preview, dry_run=True)
    to_lock = sum(1 for t in targets if t.value > 0 or (t.location_id, t.sku_id) in levels)
    to_write = preview.changed
    with (
        tqdm(total=to_lock + 2 * to_write, desc="apply", unit="row", disable=not progress) as bar,
        transaction.atomic(),
    ):
        result = apply_counts(
            targets,
            actor=actor,
            reason=f"stock file {source}",
            reference=source,
            tick=bar.update,
        )
        audit.record(
            actor=actor,
            action="stock.file_imported",
            changes={**result.totals(), "source": source},
            reason=source,
        )
    return _summary(result, dry_run=False)
