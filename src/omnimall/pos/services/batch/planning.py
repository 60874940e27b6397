"""One window of receipts: what it needs, read in a few queries, and which receipts the
set-based path can prove (their plans)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from omnimall.catalog import selectors as catalog_selectors
from omnimall.inventory.models import LocationKind, StockLocation
from omnimall.inventory.services import till_bulk
from omnimall.members.domain import MAX_POINTS_PER_ENTRY, InvalidPhoneError, normalise_phone
from omnimall.members.models import Member
from omnimall.members.services import earning
from omnimall.pos import domain
from omnimall.pos.models import Receipt

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# --- what one window needs, read in a few queries ------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberRow:
    member_id: int
    tier_id: int
    rate: Decimal
    merged: bool


@dataclass
class Window:
    stores: dict[str, int]
    skus: dict[str, int]
    receipts: dict[tuple[int, str], str]  # (store_id, number) -> payload hash
    by_card: dict[str, MemberRow]
    by_phone: dict[str, MemberRow]
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


def _member_row(row: tuple[Any, ...]) -> MemberRow:
    pk, _phone, _card, tier_id, rate, merged_into = row
    return MemberRow(pk, tier_id, rate, merged_into is not None)


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


def read_window(sales: Sequence[domain.Sale]) -> Window:
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
    return Window(stores, skus, receipts, by_card, by_phone, till_bulk.store_levels(pairs))


# --- deciding ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """An ordinary receipt, everything decided: what the segment writes for it."""

    index: int
    sale: domain.Sale
    store_id: int
    digest: str
    sku_ids: tuple[int, ...]
    level_ids: tuple[int, ...]
    member: MemberRow | None
    line_points: tuple[int, ...]
    line_totals: tuple[Decimal, ...]  # each line's total (the domain computes it per call)

    @property
    def total(self) -> Decimal:
        """``Sale.total``: the same sum, in the same order, from the same start."""
        return sum(self.line_totals, Decimal("0.00"))


def _member_of(sale: domain.Sale, window: Window) -> tuple[bool, MemberRow | None]:
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


def _rules_for(window: Window, day: date) -> earning.EarnRules:
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


def plan_receipt(
    index: int, sale: domain.Sale, window: Window, store_id: int, digest: str
) -> Plan | None:
    """The plan of an ordinary receipt; None when only ``record_sale`` can decide it."""
    if sale.points_paid or any(p.hold_id for p in sale.payments):
        return None
    if not sale.is_settled_in(settings.DEFAULT_CURRENCY):
        return None  # refused by record_sale (payments_mismatch, unsupported_currency)
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
        if sum(points) > MAX_POINTS_PER_ENTRY:
            return None  # refused by earn_points (invalid_points): the live path says so
    return Plan(index, sale, store_id, digest, sku_ids, tuple(level_ids), member, points, totals)
