"""The loop: windows of receipts decided in order, segments written in bulk, the rest
through ``record_sale``; a thread reading the file ahead."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Sequence
from contextlib import closing
from itertools import islice
from typing import Any

from django.db import DatabaseError, transaction

from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.inventory.errors import StockLedgerError
from omnimall.members.services import bulk_earn
from omnimall.pos import domain
from omnimall.pos.errors import ReceiptConflictError, UnknownStoreError
from omnimall.pos.models import ReceiptSource
from omnimall.pos.services import sales as sale_services
from omnimall.pos.services.reading import RejectedRow

from .planning import Plan, Window, plan_receipt, read_window
from .results import BatchReport, ReceiptResult
from .writes import StaleError, write_segment

DEFAULT_CHUNK = 500
SEGMENT_MAX = 1000  # receipts written by one transaction at most
logger = logging.getLogger("omnimall.pos.services.batch")

Item = domain.Sale | RejectedRow


def ingest_receipts(
    *,
    sales: Iterable[Item],
    source: str,
    actor: Actor,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int], object] | None = None,
    on_result: Callable[[ReceiptResult], object] | None = None,
    keep_results: bool = True,
) -> BatchReport:
    """Apply ``sales`` in order, each exactly as ``record_sale`` would (see the package
    docstring); one result per item. ``progress(n)``: ``n`` more items decided.

    Not inside a transaction: each segment and each live receipt commits on its own, so a
    rerun of the same file after a crash replays what was applied and applies the rest.
    """
    source = ReceiptSource(source).value
    report = BatchReport()
    window: list[tuple[Item, str]] = []
    with closing(_read_ahead(sales, size=max(1, chunk))) as items:
        while True:
            window.extend(islice(items, max(1, chunk) - len(window)))
            if not window:
                return report
            runner = _Runner(window, source=source, actor=actor)
            done = runner.run()
            report.bulk += runner.bulk
            report.live += runner.live
            for result in done:
                _count(report, result, keep=keep_results)
                if on_result is not None:
                    on_result(result)
            del window[: len(done)]
            if progress is not None:
                progress(len(done))


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()
_READ_BATCH = 50


def _read_ahead(items: Iterable[Item], *, size: int) -> Generator[tuple[Item, str], None, None]:
    """``items`` with their payload hashes, read by a thread up to ``size`` items ahead.

    Reading a file means parsing and validating each receipt: Python work that this thread
    does while the caller waits for the database to write the previous window (psycopg
    releases the GIL while it waits), so the two cores both work. The thread touches no
    database. Its errors (an unreadable file) are raised here, in the caller.
    """
    buffer: queue.Queue[Any] = queue.Queue(maxsize=max(1, size // _READ_BATCH))
    stop = threading.Event()

    def put(thing: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(thing, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            batch: list[tuple[Item, str]] = []
            for item in items:
                digest = item.payload_hash() if isinstance(item, domain.Sale) else ""
                batch.append((item, digest))
                if len(batch) >= _READ_BATCH:
                    if not put(batch):
                        return
                    batch = []
            if batch and not put(batch):
                return
            put(_END)
        except BaseException as error:
            put(_Failed(error))

    reader = threading.Thread(target=produce, name="pos-batch-reader", daemon=True)
    reader.start()
    try:
        while True:
            got = buffer.get()
            if got is _END:
                return
            if isinstance(got, _Failed):
                raise got.error
            yield from got
    finally:
        stop.set()
        reader.join(timeout=10)


def _count(report: BatchReport, result: ReceiptResult, *, keep: bool) -> None:
    setattr(report, result.status, getattr(report, result.status) + 1)
    if keep:
        report.results.append(result)


class _Runner:
    """One window: decided in order; returns the results of the prefix it got through."""

    def __init__(self, items: Sequence[tuple[Item, str]], *, source: str, actor: Actor) -> None:
        self.items = items
        self.source = source
        self.actor = actor
        self.results: dict[int, ReceiptResult] = {}
        self.segment: list[Plan] = []
        self.bulk = 0
        self.live = 0
        # level id -> units this window's segments sell (the snapshot's arithmetic)
        self.needs: dict[int, int] = {}

    def run(self) -> list[ReceiptResult]:
        sales = [item for item, _ in self.items if isinstance(item, domain.Sale)]
        window = read_window(sales) if sales else None
        seen_receipts: set[tuple[int, str]] = set()
        seen_members: set[int] = set()
        went_live = False
        stop = len(self.items)
        for index, (item, digest) in enumerate(self.items):
            if isinstance(item, RejectedRow):
                self.results[index] = ReceiptResult(
                    item.store, item.receipt_number, "rejected", item.code, item.message, item.line
                )
                continue
            assert window is not None  # noqa: S101 (a Sale implies a window)
            store_id = window.stores.get(item.store_code)
            if store_id is None:
                error = UnknownStoreError(store=item.store_code)
                self.results[index] = _rejected(item, error)
                continue
            key = (store_id, item.number)
            if key in seen_receipts:
                stop = index  # decided again once this window's writes are in
                break
            recorded = window.receipts.get(key)
            if recorded is not None:
                # The stored payments matter only for a receipt recorded before methods
                # were codes (a rare retry): read them then, not for every replay.
                same = recorded == digest or sale_services.is_same_receipt(
                    item,
                    stored_hash=recorded,
                    digest=digest,
                    stored_payments=sale_services.recorded_payments(
                        store_id=store_id, number=item.number
                    ),
                )
                self.results[index] = _replayed(item, same)
                continue
            plan = plan_receipt(index, item, window, store_id, digest)
            if plan is not None and (went_live or _member_id(plan) in seen_members):
                stop = index  # what the window read may be stale for it now
                break
            if plan is not None and not self._fits(plan, window):
                plan = None  # short of stock: the live path sells what there is and flags
            seen_receipts.add(key)
            if plan is None:
                self._flush()
                self.results[index] = self._live(item, store_id)
                went_live = True
                continue
            if plan.member is not None:
                seen_members.add(plan.member.member_id)
            self._add(plan)
            if len(self.segment) >= SEGMENT_MAX:
                went_live = self._flush()
        self._flush()
        return [self.results[i] for i in range(stop)]

    # -- stock arithmetic of the segment (unlocked snapshot; checked again under lock) --

    def _fits(self, plan: Plan, window: Window) -> bool:
        wanted: dict[int, int] = {}
        for level_id, line in zip(plan.level_ids, plan.sale.lines, strict=True):
            wanted[level_id] = wanted.get(level_id, 0) + line.quantity
        return all(
            self.needs.get(level_id, 0) + quantity <= window.sellable[level_id]
            for level_id, quantity in wanted.items()
        )

    def _add(self, plan: Plan) -> None:
        self.segment.append(plan)
        for level_id, line in zip(plan.level_ids, plan.sale.lines, strict=True):
            self.needs[level_id] = self.needs.get(level_id, 0) + line.quantity

    # -- writing --------------------------------------------------------------------------

    def _flush(self) -> bool:
        """Write the segment; True when it had to go the live way instead."""
        plans, self.segment = self.segment, []
        if not plans:
            return False
        try:
            with transaction.atomic():
                write_segment(plans, source=self.source, actor=self.actor)
        except (StaleError, bulk_earn.BulkEarnConflictError, StockLedgerError, DatabaseError):
            # Something moved since the window was read (a receipt or an earn key recorded
            # meanwhile, a level that could not give its units, a deadlock with a till):
            # nothing of the segment was written; each receipt goes the live way.
            logger.warning("POS batch: a segment of %d receipts goes the live way", len(plans))
            for plan in plans:
                self.results[plan.index] = self._live(plan.sale, plan.store_id)
            return True
        for plan in plans:
            self.results[plan.index] = ReceiptResult(
                plan.sale.store_code, plan.sale.number, "created"
            )
        self.bulk += len(plans)
        return False

    def _live(self, sale: domain.Sale, store_id: int) -> ReceiptResult:
        self.live += 1
        try:
            result = sale_services.record_sale(
                sale=sale, store_id=store_id, source=self.source, actor=self.actor
            )
        except DomainError as refused:
            return _rejected(sale, refused)
        code = ",".join(result.flags) if result.status == "flagged" else ""
        return ReceiptResult(sale.store_code, sale.number, result.status, code)


def _member_id(plan: Plan) -> int | None:
    return plan.member.member_id if plan.member is not None else None


def _rejected(sale: domain.Sale, error: DomainError) -> ReceiptResult:
    return ReceiptResult(sale.store_code, sale.number, "rejected", error.code, str(error.message))


def _replayed(sale: domain.Sale, same: bool) -> ReceiptResult:
    if same:
        return ReceiptResult(sale.store_code, sale.number, "replayed")
    return _rejected(sale, ReceiptConflictError(receipt_number=sale.number))
