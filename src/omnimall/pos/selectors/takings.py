"""The stores' takings by payment method: per store and business day, what each way of
paying took, the receipts, and what till returns refunded.

A business day is the shop's calendar day (``TIME_ZONE``, Asia/Shanghai): a sale at
23:50 in Shanghai counts on that day although it is 15:50 UTC. Only receipts in the shop's
currency are summed (amounts in two currencies do not add up); the tills' API refuses any
other, so one would be a receipt recorded before that rule or written by hand.

Refunds are counted by the way they were paid out (``TillReturn.refund_method``: what the
till said, else its receipt's way when it was paid one way). Returns recorded before
tills said so, or whose way is not known, are refunds of no method (``UNKNOWN``): counted
in ``Tally.refunds`` and ``Tally.net`` but taken off no method's net.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from omnimall.pos.domain import OTHER, PAYMENT_METHODS
from omnimall.pos.models import Receipt, TillReturn

ZERO = Decimal("0.00")
UNKNOWN = ""  # the refund method of a return that did not say
# The longest period one report reads, both ends included: a month, what finance reconciles
# at once. It bounds the receipts summed in Python below.
MAX_DAYS = 31
_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Tally:
    """What was taken and refunded: one store on one day, one day, or a whole period."""

    receipts: int = 0
    by_method: Mapping[str, Decimal] = field(default_factory=dict)  # code → amount taken
    returns: int = 0
    # code (or UNKNOWN) → amount refunded that way
    refunds_by_method: Mapping[str, Decimal] = field(default_factory=dict)

    def amount(self, method: str) -> Decimal:
        return self.by_method.get(method, ZERO)

    def refunded(self, method: str) -> Decimal:
        return self.refunds_by_method.get(method, ZERO)

    def net_of(self, method: str) -> Decimal:
        """What ``method`` took less what was refunded that way: the drawer's cash, what
        the WeChat Pay settlement should show."""
        return self.amount(method) - self.refunded(method)

    @property
    def taken(self) -> Decimal:
        """Every method's amount: the receipts' totals (a points payment at its value)."""
        return sum(self.by_method.values(), ZERO)

    @property
    def refunds(self) -> Decimal:
        return sum(self.refunds_by_method.values(), ZERO)

    @property
    def net(self) -> Decimal:
        return self.taken - self.refunds

    def __add__(self, other: Tally) -> Tally:
        methods = {*self.by_method, *other.by_method}
        refunded = {*self.refunds_by_method, *other.refunds_by_method}
        return Tally(
            receipts=self.receipts + other.receipts,
            by_method={m: self.amount(m) + other.amount(m) for m in methods},
            returns=self.returns + other.returns,
            refunds_by_method={m: self.refunded(m) + other.refunded(m) for m in refunded},
        )


@dataclass(frozen=True, slots=True)
class StoreDay:
    store_id: int
    day: date
    tally: Tally


@dataclass(frozen=True, slots=True)
class Takings:
    first: date
    last: date
    currency: str
    rows: tuple[StoreDay, ...]  # the store days with a receipt or a return, by day, store id

    def per_day(self) -> list[tuple[date, Tally]]:
        """Every day of the period (a day without sales too), the stores added up."""
        found: dict[date, Tally] = {}
        for row in self.rows:
            found[row.day] = found.get(row.day, Tally()) + row.tally
        days = (self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1))
        return [(day, found.get(day, Tally())) for day in days]

    def total(self) -> Tally:
        return sum((row.tally for row in self.rows), Tally())


def takings_by_method(
    *,
    first: date,
    last: date,
    store_ids: Collection[int] | None = None,
    currency: str | None = None,
) -> Takings:
    """Takings per store and business day from ``first`` to ``last`` (both included, at
    most ``MAX_DAYS``), in ``currency`` (the shop's by default). ``store_ids``: only these
    stores (None: every store). Two queries, whatever the number of receipts."""
    if (last - first).days >= MAX_DAYS:
        raise ValueError(f"a period of at most {MAX_DAYS} days, not {first} to {last}")
    currency = currency or settings.DEFAULT_CURRENCY
    zone = timezone.get_default_timezone()  # the shop's day, whatever zone is active
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    receipts = Receipt.objects.filter(
        occurred_at__gte=start, occurred_at__lt=end, currency=currency
    )
    # A return has no currency of its own: it is in its receipt's, or (without a receipt)
    # in the shop's, the only one a till may sell in.
    returns = TillReturn.objects.filter(occurred_at__gte=start, occurred_at__lt=end).filter(
        Q(receipt__isnull=True) | Q(receipt__currency=currency)
    )
    if store_ids is not None:
        receipts = receipts.filter(store_id__in=sorted(store_ids))
        returns = returns.filter(store_id__in=sorted(store_ids))

    # The payments are a JSON list on each receipt. Summing them by method in SQL would take
    # each database's own JSON functions (SQLite's json_each, PostgreSQL's
    # jsonb_array_elements) and SQLite has no exact decimal sum, so they are summed here,
    # exactly, in Decimal. The period (at most MAX_DAYS) bounds the receipts; iterator()
    # streams them in chunks instead of holding them all, and only three columns are read.
    counts: dict[tuple[int, date], int] = {}
    amounts: dict[tuple[int, date], dict[str, Decimal]] = {}
    streamed = (
        receipts.annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values_list("store_id", "day", "payments")
        .order_by()
        .iterator(chunk_size=_CHUNK)
    )
    for store_id, day, payments in streamed:
        key = (store_id, day)
        counts[key] = counts.get(key, 0) + 1
        _add_payments(amounts.setdefault(key, {}), payments or ())

    returned: dict[tuple[int, date], int] = {}
    refunded: dict[tuple[int, date], dict[str, Decimal]] = {}
    grouped = (
        returns.annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values("store_id", "day", "refund_method")
        .annotate(returns=Count("pk"), refunds=Sum("refund_total"))
        .order_by()
    )
    for row in grouped:
        key = (row["store_id"], row["day"])
        returned[key] = returned.get(key, 0) + row["returns"]
        by_way = refunded.setdefault(key, {})
        way = row["refund_method"] if row["refund_method"] in PAYMENT_METHODS else UNKNOWN
        by_way[way] = by_way.get(way, ZERO) + Decimal(row["refunds"] or ZERO)

    rows = []
    for store_id, day in sorted({*counts, *returned}, key=lambda key: (key[1], key[0])):
        tally = Tally(
            receipts=counts.get((store_id, day), 0),
            by_method=amounts.get((store_id, day), {}),
            returns=returned.get((store_id, day), 0),
            refunds_by_method=refunded.get((store_id, day), {}),
        )
        rows.append(StoreDay(store_id=store_id, day=day, tally=tally))
    return Takings(first=first, last=last, currency=currency, rows=tuple(rows))


def _add_payments(totals: dict[str, Decimal], payments: Iterable[Mapping[str, Any]]) -> None:
    """Add a receipt's stored payments (``{"method": code, "amount": "12.50", …}``) to
    ``totals`` by method. A method that is no code is ``other``, as migration pos 0002
    made every method that named none."""
    for payment in payments:
        method = payment.get("method")
        code = method if method in PAYMENT_METHODS else OTHER
        totals[code] = totals.get(code, ZERO) + Decimal(str(payment.get("amount") or 0))
