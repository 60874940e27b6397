"""Many till receipts at once: the end-of-day batch endpoint and the file import.

``ingest_receipts`` gives every receipt exactly the outcome ``record_sale`` gives it when
the till posts it alone (``POST /api/v1/pos/sales``, one after the other in the order
given) — same rows, same ledgers, same status — but writes the ordinary receipts in bulk.

**The fast path.** Receipts are taken a window (``chunk``) at a time. One round of queries
resolves the window: store codes, SKU codes, the receipts already recorded (a replay or a
409 ``receipt_conflict``, nothing written), the members named (card first, then phone,
as ``record_sale`` resolves them), the store's stock levels and the earning rules. A
receipt is *ordinary* when the fast path can prove its outcome: a known store and SKUs,
no points payment, its member (if any) already enrolled and not merged, and every line
sellable in full from an existing level (Σ of the window's lines per level ≤
``on_hand − reserved``). Consecutive ordinary receipts form a *segment*, written in ONE
transaction with set-based statements, taking locks in the live path's order:

1. receipts: one multi-row ``INSERT … ON CONFLICT (store, number) DO NOTHING RETURNING``
   (a receipt posted meanwhile by a till is not inserted, and the segment falls back);
2. stock: the levels locked in primary-key order and checked again under the lock, one
   ``sale`` movement per line (bulk insert) and one aggregated conditional
   ``UPDATE … FROM (VALUES …)`` of ``on_hand`` (``inventory.services.till_bulk``);
3. points: the members locked in primary-key order (their tier checked unchanged), one
   ``EARN`` entry, one lot per earn and one aggregated balance update
   (``members.services.bulk_earn``);
4. lines (bulk insert, with each line's points) and the members' purchases and tiers
   (``members.services.purchases.record_purchases_bulk``).

A segment ends before a receipt whose outcome depends on the segment itself: the same
receipt number again, or a member already in the segment (their tier may change with the
first purchase, and ``record_sale`` earns at the tier before each purchase).

**The live path.** Anything else — a points payment or hold, an unknown member card or a
new phone to enrol, a stock shortfall, an unknown SKU, a merged member — goes through
``record_sale`` one by one, in its place in the order, with its own transaction, and its
refusals become rejected results. If a segment finds under its locks that something moved
since the window was read (a till posted one of its receipts, the stock or a tier
changed), it rolls back and its receipts go through ``record_sale`` too.

The live path writes no audit entries for a receipt and neither does this one; the one
difference in what is stored is that a tier change caused by a batch is not audited
(``record_purchases_bulk``: the machine path).

Memory stays flat: one window of receipts at a time, results handed to ``on_result`` as
they are decided (``keep_results=False`` keeps only the counts).
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from omnimall.catalog import selectors as catalog_selectors
from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.inventory.errors import StockLedgerError
from omnimall.inventory.models import LocationKind, StockLocation
from omnimall.inventory.services import till_bulk
from omnimall.members.domain import InvalidPhoneError, normalise_phone
from omnimall.members.models import Member, PurchaseChannel
from omnimall.members.services import bulk_earn, earning, purchases
from omnimall.pos import domain
from omnimall.pos.errors import ReceiptConflictError, UnknownStoreError
from omnimall.pos.models import Receipt, ReceiptLine, ReceiptSource, ReceiptState
from omnimall.pos.services import sales as sale_services
from omnimall.pos.services.reading import RejectedRow

DEFAULT_CHUNK = 500
SEGMENT_MAX = 1000  # receipts written by one transaction at most
logger = logging.getLogger(__name__)
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

Item = domain.Sale | RejectedRow


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptResult:
    store: str
    receipt_number: str
    status: str  # created | replayed | flagged | rejected
    code: str = ""
    message: str = ""
    line: int | None = None  # the receipt's line in a file, when it came from one

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"receipt_number": self.receipt_number, "status": self.status}
        if self.code:
            body["code"] = self.code
        if self.message:
            body["message"] = self.message
        return body


STATUSES = ("created", "replayed", "flagged", "rejected")


@dataclass
class BatchReport:
    created: int = 0
    replayed: int = 0
    flagged: int = 0
    rejected: int = 0
    bulk: int = 0  # receipts written by the set-based path
    live: int = 0  # receipts sent through record_sale
    results: list[ReceiptResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.replayed + self.flagged + self.rejected

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "replayed": self.replayed,
            "flagged": self.flagged,
            "rejected": self.rejected,
            "total": self.total,
        }


# --- what one window needs, read in a few queries ------------------------------------------


@dataclass(frozen=True, slots=True)
class _MemberRow:
    member_id: int
    tier_id: int
    rate: Decimal
    merged: bool


@dataclass
class _Window:
    stores: dict[str, int]
    skus: dict[str, int]
    receipts: dict[tuple[int, str], str]  # (store_id, number) -> payload hash
    by_card: dict[str, _MemberRow]
    by_phone: dict[str, _MemberRow]
    levels: dict[tuple[int, int], till_bulk.LevelState]
    rules: dict[date, earning.EarnRules] = field(default_factory=dict)
    sellable: dict[int, int] = field(default_factory=dict)  # level id -> on_hand - reserved

    def __post_init__(self) -> None:
        self.sellable = {state.level_id: state.sellable for state in self.levels.values()}


def _card_key(card: str) -> str:
    return "".join(card.split())


def _phone_key(phone: str) -> str | None:
    """The E.164 form ``record_sale`` would look up; None when it is not a mobile number
    (the live path then refuses it with its own error)."""
    text = phone.strip()
    if _E164.match(text):
        # Stored phones are normalise_phone's output, so an E.164-looking text either is
        # one of them or finds nobody (and then goes the live way, which checks it).
        return text
    try:
        return normalise_phone(text, region=getattr(settings, "MEMBER_DEFAULT_REGION", "CN"))
    except InvalidPhoneError:
        return None


_MEMBER_COLUMNS = (
    "pk",
    "phone",
    "card_number",
    "tier_id",
    "tier__points_per_cny",
    "merged_into_id",
)


def _members(**lookup: set[str]) -> list[tuple[Any, ...]]:
    """Members by one unique column (one lookup per query: an ``OR`` of two ``IN`` lists
    makes PostgreSQL scan the table)."""
    ((field, values),) = lookup.items()
    if not values:
        return []
    return list(Member.objects.filter(**{field: sorted(values)}).values_list(*_MEMBER_COLUMNS))


def _member_row(row: tuple[Any, ...]) -> _MemberRow:
    pk, _phone, _card, tier_id, rate, merged_into = row
    return _MemberRow(pk, tier_id, rate, merged_into is not None)


def _recorded(keys: set[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """``{(store_id, number): payload_hash}`` of the receipts already recorded among
    ``keys``: one probe of the (store, number) index per key."""
    if not keys:
        return {}
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Receipt._meta.db_table)
        sql = (
            f"SELECT r.store_id, r.number, r.payload_hash FROM {table} r "  # noqa: S608
            "JOIN unnest(%s::bigint[], %s::text[]) AS k(store_id, number) "
            "ON r.store_id = k.store_id AND r.number = k.number"
        )
        ordered = sorted(keys)
        with till_bulk.pg_cursor() as cursor:
            cursor.execute(sql, [[k[0] for k in ordered], [k[1] for k in ordered]])
            return {(store_id, number): digest for store_id, number, digest in cursor.fetchall()}
    rows = Receipt.objects.filter(
        store_id__in={k[0] for k in keys}, number__in={k[1] for k in keys}
    ).values_list("store_id", "number", "payload_hash")
    return {
        (store_id, number): digest
        for store_id, number, digest in rows
        if (store_id, number) in keys
    }


def _read_window(sales: Sequence[domain.Sale]) -> _Window:
    store_codes = {sale.store_code for sale in sales}
    stores = dict(
        StockLocation.objects.filter(code__in=store_codes, kind=LocationKind.STORE).values_list(
            "code", "pk"
        )
    )
    skus = catalog_selectors.sku_ids_by_code(
        codes=(line.sku_code for sale in sales for line in sale.lines)
    )
    receipts = _recorded(
        {(stores[s.store_code], s.number) for s in sales if s.store_code in stores}
    )
    cards = {_card_key(s.member_card) for s in sales if s.member_card.strip()}
    phones = {
        key
        for s in sales
        if s.member_phone.strip() and not s.member_card.strip()
        for key in [_phone_key(s.member_phone)]
        if key
    }
    by_card = {row[2]: _member_row(row) for row in _members(card_number__in=cards)}
    by_phone = {row[1]: _member_row(row) for row in _members(phone__in=phones)}
    pairs = {
        (stores[sale.store_code], skus[line.sku_code])
        for sale in sales
        if sale.store_code in stores
        for line in sale.lines
        if line.sku_code in skus
    }
    return _Window(stores, skus, receipts, by_card, by_phone, till_bulk.store_levels(pairs))


# --- deciding ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    """An ordinary receipt, everything decided: what the segment writes for it."""

    index: int
    sale: domain.Sale
    store_id: int
    digest: str
    sku_ids: tuple[int, ...]
    level_ids: tuple[int, ...]
    member: _MemberRow | None
    line_points: tuple[int, ...]
    line_totals: tuple[Decimal, ...]  # each line's total (the domain computes it per call)

    @property
    def total(self) -> Decimal:
        """``Sale.total``: the same sum, in the same order, from the same start."""
        return sum(self.line_totals, Decimal("0.00"))


def _member_of(sale: domain.Sale, window: _Window) -> tuple[bool, _MemberRow | None]:
    """(known, member): ``known`` False when only ``record_sale`` can tell (unknown card,
    a phone to enrol or to refuse, a merged member)."""
    if sale.member_card.strip():
        row = window.by_card.get(_card_key(sale.member_card))
    elif sale.member_phone.strip():
        key = _phone_key(sale.member_phone)
        row = window.by_phone.get(key) if key else None
    else:
        return True, None
    if row is None or row.merged:
        return False, None
    return True, row


def _local_day(sale: domain.Sale) -> date:
    at = sale.occurred_at
    return timezone.localdate(at) if timezone.is_aware(at) else at.date()


def _rules_for(window: _Window, day: date) -> earning.EarnRules:
    rules = window.rules.get(day)
    if rules is None:
        rules = earning.load_earn_rules(on=day, sku_ids=set(window.skus.values()))
        window.rules[day] = rules
    return rules


def _line_points(
    line_totals: Sequence[Decimal],
    sku_ids: Sequence[int],
    rate: Decimal,
    rules: earning.EarnRules,
) -> tuple[int, ...]:
    """What ``earning.points_for_lines`` gives for a receipt paid without points."""
    lines = list(zip(sku_ids, line_totals, strict=True))
    share = earning.paid_share(lines, Decimal(0))
    return tuple(
        rules.points_for(sku_id=sku_id, amount=Decimal(amount) * share, rate=Decimal(rate))
        for sku_id, amount in lines
    )


def _plan(
    index: int, sale: domain.Sale, window: _Window, store_id: int, digest: str
) -> _Plan | None:
    """The plan of an ordinary receipt; None when only ``record_sale`` can decide it."""
    if sale.points_paid or any(p.hold_id for p in sale.payments):
        return None
    try:
        sku_ids = tuple(window.skus[line.sku_code] for line in sale.lines)
    except KeyError:
        return None
    known, member = _member_of(sale, window)
    if not known:
        return None
    level_ids = []
    for sku_id in sku_ids:
        level = window.levels.get((store_id, sku_id))
        if level is None:
            return None
        level_ids.append(level.level_id)
    totals = tuple(line.line_total for line in sale.lines)
    points: tuple[int, ...] = (0,) * len(sale.lines)
    if member is not None:
        rules = _rules_for(window, _local_day(sale))
        points = _line_points(totals, sku_ids, member.rate, rules)
    return _Plan(index, sale, store_id, digest, sku_ids, tuple(level_ids), member, points, totals)


# --- the loop ------------------------------------------------------------------------------


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
    """Apply ``sales`` in order, each exactly as ``record_sale`` would (see the module
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
        self.segment: list[_Plan] = []
        self.bulk = 0
        self.live = 0
        # level id -> units this window's segments sell (the snapshot's arithmetic)
        self.needs: dict[int, int] = {}

    def run(self) -> list[ReceiptResult]:
        sales = [item for item, _ in self.items if isinstance(item, domain.Sale)]
        window = _read_window(sales) if sales else None
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
                self.results[index] = _replayed(item, recorded == digest)
                continue
            plan = _plan(index, item, window, store_id, digest)
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

    def _fits(self, plan: _Plan, window: _Window) -> bool:
        wanted: dict[int, int] = {}
        for level_id, line in zip(plan.level_ids, plan.sale.lines, strict=True):
            wanted[level_id] = wanted.get(level_id, 0) + line.quantity
        return all(
            self.needs.get(level_id, 0) + quantity <= window.sellable[level_id]
            for level_id, quantity in wanted.items()
        )

    def _add(self, plan: _Plan) -> None:
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
                _write_segment(plans, source=self.source, actor=self.actor)
        except (_StaleError, bulk_earn.BulkEarnConflictError, StockLedgerError, DatabaseError):
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


def _member_id(plan: _Plan) -> int | None:
    return plan.member.member_id if plan.member is not None else None


def _rejected(sale: domain.Sale, error: DomainError) -> ReceiptResult:
    return ReceiptResult(sale.store_code, sale.number, "rejected", error.code, str(error.message))


def _replayed(sale: domain.Sale, same: bool) -> ReceiptResult:
    if same:
        return ReceiptResult(sale.store_code, sale.number, "replayed")
    return _rejected(sale, ReceiptConflictError(receipt_number=sale.number))


class _StaleError(Exception):
    """The segment's plan no longer holds under its locks; roll it back."""


def _write_segment(plans: Sequence[_Plan], *, source: str, actor: Actor) -> None:
    now = clock.now()
    when = connection.ops.adapt_datetimefield_value(now)
    ids = _insert_receipts(plans, source=source, when=when)
    if len(ids) != len(plans):
        raise _StaleError("a receipt was recorded meanwhile")
    needs: dict[int, int] = {}
    for plan in plans:
        for level_id, line in zip(plan.level_ids, plan.sale.lines, strict=True):
            needs[level_id] = needs.get(level_id, 0) + line.quantity
    locked = till_bulk.lock_levels(needs)
    if any(locked[level_id].sellable < units for level_id, units in needs.items()):
        raise _StaleError("the stock moved")
    members = {p.member.member_id: p.member for p in plans if p.member is not None}
    states = bulk_earn.lock_members(members)
    for member_id, seen in members.items():
        state = states.get(member_id)
        if state is None or state.merged_into_id is not None or state.tier_id != seen.tier_id:
            raise _StaleError("a member changed")
    _insert_lines(plans, ids)
    till_bulk.sell_in_bulk(
        sales=[
            till_bulk.BulkSale(
                level_id=level_id,
                quantity=line.quantity,
                reference=sale_services.source_key(plan.sale.store_code, plan.sale.number),
            )
            for plan in plans
            for level_id, line in zip(plan.level_ids, plan.sale.lines, strict=True)
        ],
        actor=actor,
        now=now,
    )
    with_member = [p for p in plans if p.member is not None]
    bulk_earn.earn_points_bulk(
        earns=[
            bulk_earn.BulkEarn(
                member_id=p.member.member_id,
                points=sum(p.line_points),
                source_key=sale_services.source_key(p.sale.store_code, p.sale.number, "earn"),
                document=p.sale.number,
            )
            for p in with_member
            if p.member is not None and sum(p.line_points) > 0
        ],
        actor=actor,
        now=now,
    )
    bulk_earn.record_purchases_in_bulk(
        rows=[
            purchases.PurchaseRow(
                member_id=p.member.member_id,
                channel=PurchaseChannel.STORE,
                store_id=p.store_id,
                document=p.sale.number,
                source_key=sale_services.source_key(p.sale.store_code, p.sale.number),
                amount=p.total,
                occurred_at=p.sale.occurred_at,
            )
            for p in with_member
            if p.member is not None
        ],
        now=now,
    )


def _payments_json(sale: domain.Sale) -> str:
    """The receipt's payments as ``record_sale`` stores them."""
    return json.dumps(
        [
            {
                "method": p.method,
                "amount": str(p.amount),
                **({"points": p.points} if p.points else {}),
                **({"hold_id": p.hold_id} if p.hold_id else {}),
            }
            for p in sale.payments
        ]
    )


def _insert_receipts(
    plans: Sequence[_Plan], *, source: str, when: Any
) -> dict[tuple[int, str], int]:
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        (
            p.store_id,
            p.sale.number,
            adapt(p.sale.occurred_at),
            p.member.member_id if p.member is not None else None,
            p.sale.currency,
            p.total,
            p.sale.discount_total,
            _payments_json(p.sale),
            sum(p.line_points),
            p.digest,
        )
        for p in plans
    ]
    inserted = till_bulk.insert_rows(
        Receipt,
        (
            "store_id",
            "number",
            "occurred_at",
            "member_id",
            "currency",
            "total",
            "discount_total",
            "payments",
            "points_earned",
            "payload_hash",
        ),
        rows,
        constant={
            "points_spent": 0,
            "state": ReceiptState.APPLIED.value,
            "flags": "[]",
            "source": source,
            "created_at": when,
        },
        returning=("id", "store_id", "number"),
        on_conflict="ON CONFLICT (store_id, number) DO NOTHING",
    )
    return {(store_id, number): pk for pk, store_id, number in inserted}


def _insert_lines(plans: Sequence[_Plan], ids: dict[tuple[int, str], int]) -> None:
    rows: list[tuple[Any, ...]] = []
    for plan in plans:
        receipt_id = ids[(plan.store_id, plan.sale.number)]
        for line, sku_id, points, line_total in zip(
            plan.sale.lines, plan.sku_ids, plan.line_points, plan.line_totals, strict=True
        ):
            rows.append(
                (
                    receipt_id,
                    line.line_no,
                    sku_id,
                    line.sku_code,
                    line.quantity,
                    line.unit_price,
                    line.discount,
                    line_total,
                    points,
                )
            )
    till_bulk.insert_rows(
        ReceiptLine,
        (
            "receipt_id",
            "line_no",
            "sku_id",
            "sku_code",
            "quantity",
            "unit_price",
            "discount",
            "line_total",
            "points_earned",
        ),
        rows,
        constant={"quantity_returned": 0},
    )


def iter_results(report: BatchReport) -> Iterator[dict[str, Any]]:
    """The kept results as the API shows them."""
    return (result.as_dict() for result in report.results)
