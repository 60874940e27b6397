"""Stock reports (absolute counts) and receipts from warehouses (WMS) and stores.

Shared by the integration API (one location per call) and the nightly file import
(``imports``). Both go in two steps:

1. **Validate every row first** (``check_count_rows`` / ``check_receipt_rows``, pure): an
   unknown location or SKU, a count or quantity that is not a whole number (or is negative),
   a SKU named twice, a count below the units reserved. Any bad row refuses the whole batch
   with ``rows_rejected`` (422) listing every bad row, and nothing is written.
2. **Apply in bulk, in one transaction**: create the missing stock levels, lock the levels
   in primary-key order (in chunks), check again under the locks, append the movements with
   ``bulk_create`` and move ``on_hand`` by the delta seen under the lock with ``F()``
   (``UPDATE … SET on_hand = on_hand + delta``). A count equal to ``on_hand`` writes nothing.

The transaction is a plain ``atomic`` (not durable): the API wraps it in
``core.idempotency.run_once``, whose key row commits with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now

from omnimall.catalog import selectors as catalog_selectors
from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.inventory.models import MovementKind, StockLevel, StockLocation, StockMovement

from .stock_rows import (
    CHUNK,
    BatchResult,
    CountRow,
    LevelSnapshot,
    LineResult,
    Pair,
    RowError,
    RowsRejectedError,
    Target,
    below_reserved,
    check_count_rows,
    check_receipt_rows,
)

# --- reading what validation needs ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resolved:
    locations: dict[str, int]
    skus: dict[str, int]


def resolve_codes(rows: Sequence[CountRow]) -> Resolved:
    """Location and SKU codes to ids, in a few queries whatever the number of rows."""
    location_codes = {row.location.strip() for row in rows}
    locations = dict(
        StockLocation.objects.filter(code__in=location_codes).values_list("code", "pk")
    )
    skus = catalog_selectors.sku_ids_by_code(codes=(row.sku.strip() for row in rows))
    return Resolved(locations=locations, skus=skus)


def level_snapshots(pairs: Iterable[Pair]) -> dict[Pair, LevelSnapshot]:
    """The levels that exist for ``pairs`` (unlocked): a few queries per location.

    Each query reads a range of SKU ids (between the lowest and highest of up to ``CHUNK``
    wanted ids) and keeps the wanted rows: far cheaper than an ``IN`` list of thousands
    of ids to build and plan, and never more rows than the location holds in that range.
    """
    by_location: dict[int, set[int]] = {}
    for location_id, sku_id in pairs:
        by_location.setdefault(location_id, set()).add(sku_id)
    found: dict[Pair, LevelSnapshot] = {}
    for location_id, sku_ids in by_location.items():
        ordered = sorted(sku_ids)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            rows = StockLevel.objects.filter(
                location_id=location_id, sku_id__gte=chunk[0], sku_id__lte=chunk[-1]
            ).values_list("pk", "sku_id", "on_hand", "reserved")
            for pk, sku_id, on_hand, reserved in rows:
                if sku_id in sku_ids:
                    found[(location_id, sku_id)] = LevelSnapshot(pk, on_hand, reserved)
    return found


def lock_levels(
    level_ids: Iterable[int], *, tick: Callable[[int], object] | None = None
) -> dict[int, LevelSnapshot]:
    """Lock levels in primary-key order (chunk after chunk) and read them under the lock."""
    ordered = sorted(set(level_ids))
    locked: dict[int, LevelSnapshot] = {}
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        rows = (
            StockLevel.objects.select_for_update()
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk", "on_hand", "reserved")
        )
        for pk, on_hand, reserved in rows:
            locked[pk] = LevelSnapshot(pk, on_hand, reserved)
        if tick is not None:
            tick(len(chunk))
    return locked


# --- applying ------------------------------------------------------------------------


def _ensure_levels(targets: Sequence[Target], *, create_empty: bool = True) -> dict[Pair, int]:
    """Level ids for the targets, creating missing levels (empty) in bulk.

    With ``create_empty=False`` a target whose value is 0 gets no new level (a count of 0
    where nothing was ever stocked changes nothing).
    """
    pairs = {(t.location_id, t.sku_id) for t in targets}
    ids = {pair: snap.level_id for pair, snap in level_snapshots(pairs).items()}
    missing = sorted(
        {
            (t.location_id, t.sku_id)
            for t in targets
            if (t.location_id, t.sku_id) not in ids and (create_empty or t.value > 0)
        }
    )
    if missing:
        StockLevel.objects.bulk_create(
            [StockLevel(location_id=loc, sku_id=sku) for loc, sku in missing],
            batch_size=CHUNK,
            ignore_conflicts=True,  # a concurrent writer may have created one meanwhile
        )
        ids.update({pair: snap.level_id for pair, snap in level_snapshots(missing).items()})
    return ids


def _write_changes(
    changes: Sequence[tuple[int, int]],
    *,
    kind: MovementKind,
    actor: Actor,
    reason: str,
    reference: str,
    tick: Callable[[int], object] | None = None,
) -> None:
    """Append one movement per ``(level_id, delta)`` and move ``on_hand`` by the delta.

    Call with the levels locked. ``on_hand`` changes by ``F("on_hand") + delta`` (never an
    absolute value from Python); the CHECK constraints stay the backstop.
    """
    for start in range(0, len(changes), CHUNK):
        chunk = changes[start : start + CHUNK]
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    level_id=level_id,
                    kind=kind,
                    quantity=delta,
                    reason=reason,
                    actor_kind=actor.kind,
                    actor_label=actor.label[:150],
                    reference=reference[:120],
                )
                for level_id, delta in chunk
            ]
        )
        if tick is not None:
            tick(len(chunk))
    # One UPDATE per distinct delta (and chunk of ids): stock files mostly move levels by a
    # few units, so 100,000 changes take a few dozen statements.
    by_delta: dict[int, list[int]] = {}
    for level_id, delta in changes:
        by_delta.setdefault(delta, []).append(level_id)
    for delta, level_ids in sorted(by_delta.items()):
        for start in range(0, len(level_ids), CHUNK):
            ids = level_ids[start : start + CHUNK]
            updated = StockLevel.objects.filter(pk__in=ids).update(
                on_hand=F("on_hand") + delta, updated_at=Now()
            )
            if updated != len(ids):
                raise RuntimeError(f"{len(ids) - updated} locked stock levels vanished")
            if tick is not None:
                tick(len(ids))


def apply_counts(
    targets: Sequence[Target],
    *,
    actor: Actor,
    reason: str,
    reference: str = "",
    tick: Callable[[int], object] | None = None,
) -> BatchResult:
    """Set each target's ``on_hand`` to its count: count-correction movements for the
    differences only. Call inside a transaction; raises ``RowsRejectedError`` (nothing
    written) when a count is below what became reserved since validation."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("apply_counts must run inside a transaction")
    level_ids = _ensure_levels(targets, create_empty=False)
    locked = lock_levels(level_ids.values(), tick=tick)
    results: list[LineResult] = []
    changes: list[tuple[int, int]] = []
    errors: list[RowError] = []
    for t in targets:
        level_id = level_ids.get((t.location_id, t.sku_id))
        snap = locked.get(level_id) if level_id is not None else None
        before = snap.on_hand if snap is not None else 0
        if snap is not None and t.value < snap.reserved:
            row = CountRow(t.row, t.location, t.sku, t.value)
            errors.append(below_reserved(row, count=t.value, reserved=snap.reserved))
            continue
        results.append(LineResult(t.row, t.location, t.sku, before=before, after=t.value))
        if level_id is not None and t.value != before:
            changes.append((level_id, t.value - before))
    if errors:
        raise RowsRejectedError(errors)
    _write_changes(
        changes,
        kind=MovementKind.COUNT_CORRECTION,
        actor=actor,
        reason=reason,
        reference=reference,
        tick=tick,
    )
    return BatchResult(lines=tuple(results))


def _location_or_reject(code: str) -> int:
    location_id = StockLocation.objects.filter(code=code).values_list("pk", flat=True).first()
    if location_id is None:
        raise RowsRejectedError(
            [
                RowError(
                    row=None,
                    location=code,
                    sku="",
                    code="unknown_location",
                    message=f"no stock location {code!r}",
                )
            ]
        )
    return location_id


def apply_stock_report(
    *,
    location: str,
    lines: Sequence[tuple[str, object]],
    actor: Actor,
    reference: str = "",
    counted_at: datetime | None = None,
) -> BatchResult:
    """A WMS snapshot or a store's count: ``lines`` of ``(sku_code, count)`` for one
    location, absolute. Rows are numbered from 0 (their index in ``lines``)."""
    location_id = _location_or_reject(location)
    rows = [CountRow(i, location, sku, count) for i, (sku, count) in enumerate(lines)]
    skus = catalog_selectors.sku_ids_by_code(codes=(row.sku.strip() for row in rows))
    locations = {location: location_id}
    with transaction.atomic():
        pairs = {(location_id, skus[row.sku.strip()]) for row in rows if row.sku.strip() in skus}
        targets, errors = check_count_rows(
            rows, locations=locations, skus=skus, levels=level_snapshots(pairs)
        )
        if errors:
            raise RowsRejectedError(errors)
        when = (counted_at or clock.now()).isoformat()
        result = apply_counts(
            targets,
            actor=actor,
            reason=f"stock report, counted at {when}",
            reference=reference,
        )
        audit.record(
            actor=actor,
            action="stock.report_applied",
            subject=StockLocation.objects.get(pk=location_id),
            changes={**result.totals(), "counted_at": when},
            reason=reference,
        )
    return result


def record_receipt(
    *, location: str, reference: str, lines: Sequence[tuple[str, object]], actor: Actor
) -> BatchResult:
    """Goods received at one location (an ASN or purchase order): ``lines`` of
    ``(sku_code, quantity)``, all or nothing. Rows are numbered from 0."""
    location_id = _location_or_reject(location)
    rows = [CountRow(i, location, sku, quantity) for i, (sku, quantity) in enumerate(lines)]
    skus = catalog_selectors.sku_ids_by_code(codes=(row.sku.strip() for row in rows))
    targets, errors = check_receipt_rows(rows, locations={location: location_id}, skus=skus)
    if errors:
        raise RowsRejectedError(errors)
    with transaction.atomic():
        level_ids = _ensure_levels(targets)
        locked = lock_levels(level_ids.values())
        results = []
        changes = []
        for t in targets:
            level_id = level_ids[(t.location_id, t.sku_id)]
            before = locked[level_id].on_hand
            results.append(LineResult(t.row, t.location, t.sku, before, before + t.value))
            changes.append((level_id, t.value))
        _write_changes(
            changes,
            kind=MovementKind.RECEIPT,
            actor=actor,
            reason="goods received",
            reference=reference,
        )
        result = BatchResult(lines=tuple(results))
        audit.record(
            actor=actor,
            action="stock.receipt_recorded",
            subject=StockLocation.objects.get(pk=location_id),
            changes=result.totals(),
            reason=reference,
        )
    return result
