"""Pure rules of the payments app: the signing string, notification parsing, settlement.

No Django here. ``signing_string`` is Alipay's rule for the content an RSA2 signature
covers; ``parse_notification`` checks the shape of an asynchronous notification before
anything else looks at it; ``parse_settlement`` and ``match_settlement`` read a gateway's
settlement file and compare it with the payments ledger.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from omnimall.core import days

# --- signing ----------------------------------------------------------------------------

UNSIGNED_KEYS = frozenset({"sign", "sign_type"})


def signing_string(params: Mapping[str, str]) -> str:
    """``k=v`` pairs sorted by key, joined by ``&``; without ``sign``, ``sign_type`` and
    empty values (Alipay's rule). Values are taken as they are, not URL-encoded."""
    return "&".join(
        f"{key}={params[key]}"
        for key in sorted(params)
        if key not in UNSIGNED_KEYS and params[key] not in ("", None)
    )


# --- notifications ----------------------------------------------------------------------

TRADE_SUCCESS = "TRADE_SUCCESS"
TRADE_FINISHED = "TRADE_FINISHED"
WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
TRADE_CLOSED = "TRADE_CLOSED"
TRADE_STATUSES = frozenset({TRADE_SUCCESS, TRADE_FINISHED, WAIT_BUYER_PAY, TRADE_CLOSED})
PAID_STATUSES = frozenset({TRADE_SUCCESS, TRADE_FINISHED})

REQUIRED_KEYS = ("out_trade_no", "trade_no", "total_amount", "trade_status", "app_id", "sign")
MAX_KEYS = 64
MAX_VALUE_LENGTH = 1024
_AMOUNT = re.compile(r"^(0|[1-9]\d{0,9})(\.\d{1,2})?$")
_DOCUMENT = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class MalformedNotificationError(ValueError):
    """The notification does not have the shape of one; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Notification:
    out_trade_no: str
    trade_no: str
    total_amount: Decimal
    currency: str
    trade_status: str
    app_id: str
    seller_id: str
    gmt_payment: str


def parse_amount(text: str) -> Decimal:
    """A money amount as gateways write it: digits with at most two decimals, no sign."""
    if not _AMOUNT.match(text):
        raise MalformedNotificationError(f"not an amount: {text[:20]!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already refuses it
        raise MalformedNotificationError("not an amount") from exc


def parse_notification(params: Mapping[str, str]) -> Notification:
    """The notification's fields, or ``MalformedNotificationError``. Checks shape only:
    the signature and the values' meaning are checked by the caller, in that order."""
    if not params or len(params) > MAX_KEYS:
        raise MalformedNotificationError("empty or too many parameters")
    for key, value in params.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise MalformedNotificationError("parameters must be strings")
        if len(key) > 64 or len(value) > MAX_VALUE_LENGTH:
            raise MalformedNotificationError(f"parameter too long: {key[:64]}")
    missing = [key for key in REQUIRED_KEYS if not params.get(key)]
    if missing:
        raise MalformedNotificationError(f"missing {', '.join(missing)}")
    if params.get("sign_type", "RSA2") != "RSA2":
        raise MalformedNotificationError("sign_type must be RSA2")
    for key in ("out_trade_no", "trade_no"):
        if not _DOCUMENT.match(params[key]):
            raise MalformedNotificationError(f"bad {key}")
    currency = params.get("trans_currency") or "CNY"
    if not _CURRENCY.match(currency):
        raise MalformedNotificationError("bad trans_currency")
    if params["trade_status"] not in TRADE_STATUSES:
        raise MalformedNotificationError("unknown trade_status")
    return Notification(
        out_trade_no=params["out_trade_no"],
        trade_no=params["trade_no"],
        total_amount=parse_amount(params["total_amount"]),
        currency=currency,
        trade_status=params["trade_status"],
        app_id=params["app_id"],
        seller_id=params.get("seller_id", ""),
        gmt_payment=params.get("gmt_payment", ""),
    )


def loggable_params(params: Mapping[str, str], *, limit: int = 200) -> dict[str, str]:
    """What a notification log keeps: every parameter but the signature, each truncated."""
    kept: dict[str, str] = {}
    for key, value in list(params.items())[:MAX_KEYS]:
        if key == "sign":
            continue
        kept[str(key)[:64]] = str(value)[:limit]
    return kept


# --- settlement files -------------------------------------------------------------------

SETTLEMENT_COLUMNS = ("trade_no", "out_trade_no", "refund_no", "type", "amount", "currency", "time")
PAYMENT = "payment"
REFUND = "refund"


class MalformedSettlementError(ValueError):
    """The settlement file cannot be read; the message names the line."""


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """One line of a settlement file; ``amount`` signed as in the ledger (refunds < 0)."""

    line: int
    trade_no: str
    out_trade_no: str
    refund_no: str
    type: str
    amount: Decimal
    currency: str
    time: datetime

    @property
    def document(self) -> str:
        return self.trade_no if self.type == PAYMENT else self.refund_no


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One payments-ledger entry as reconciliation sees it."""

    kind: str  # PAYMENT or REFUND (the ledger's "capture" is a settlement "payment")
    document: str
    out_trade_no: str
    amount: Decimal
    currency: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Mismatch:
    problem: str  # "missing_in_ledger", "missing_in_file", "amount_differs", ...
    type: str
    document: str
    out_trade_no: str
    file_value: str = ""
    ledger_value: str = ""
    line: int | None = None

    def describe(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        text = (
            f"{self.problem.upper()} {self.type} {self.document} out_trade_no={self.out_trade_no}"
        )
        if self.file_value or self.ledger_value:
            text += f": file {self.file_value or '-'}, ledger {self.ledger_value or '-'}"
        return text + where


def _settlement_row(number: int, raw: dict[str, str]) -> SettlementRow:
    values = {key: (raw.get(key) or "").strip() for key in SETTLEMENT_COLUMNS}
    kind = values["type"]
    if kind not in (PAYMENT, REFUND):
        raise MalformedSettlementError(f"line {number}: type must be payment or refund")
    text = values["amount"]
    negative = text.startswith("-")
    try:
        magnitude = parse_amount(text[1:] if negative else text)
    except MalformedNotificationError as exc:
        raise MalformedSettlementError(f"line {number}: bad amount {text[:20]!r}") from exc
    if (kind == PAYMENT) == negative or magnitude == 0:
        raise MalformedSettlementError(
            f"line {number}: a payment's amount is positive, a refund's negative"
        )
    if not values["trade_no"] or not values["out_trade_no"]:
        raise MalformedSettlementError(f"line {number}: trade_no and out_trade_no are required")
    if kind == REFUND and not values["refund_no"]:
        raise MalformedSettlementError(f"line {number}: a refund row needs its refund_no")
    if not _CURRENCY.match(values["currency"]):
        raise MalformedSettlementError(f"line {number}: bad currency")
    try:
        moment = datetime.fromisoformat(values["time"])
    except ValueError as exc:
        raise MalformedSettlementError(f"line {number}: bad time {values['time'][:30]!r}") from exc
    if moment.tzinfo is None:
        raise MalformedSettlementError(f"line {number}: the time needs its UTC offset")
    if problem := days.moment_out_of_range(moment):
        raise MalformedSettlementError(f"line {number}: time {problem}")
    return SettlementRow(
        line=number,
        trade_no=values["trade_no"],
        out_trade_no=values["out_trade_no"],
        refund_no=values["refund_no"],
        type=kind,
        amount=-magnitude if negative else magnitude,
        currency=values["currency"],
        time=moment,
    )


def parse_settlement(lines: Iterable[str]) -> list[SettlementRow]:
    """The rows of a settlement CSV (header first, columns ``SETTLEMENT_COLUMNS``)."""
    reader = csv.DictReader(lines)
    header = [name.strip() for name in (reader.fieldnames or [])]
    if sorted(header) != sorted(SETTLEMENT_COLUMNS):
        raise MalformedSettlementError(
            f"line 1: the header must be {','.join(SETTLEMENT_COLUMNS)}, got {','.join(header)}"
        )
    rows: list[SettlementRow] = []
    seen: set[tuple[str, str]] = set()
    try:
        for raw in reader:
            if None in raw:
                raise MalformedSettlementError(f"line {reader.line_num}: too many fields")
            row = _settlement_row(reader.line_num, {k.strip(): v for k, v in raw.items()})
            if (row.type, row.document) in seen:
                raise MalformedSettlementError(
                    f"line {row.line}: {row.type} {row.document} appears twice"
                )
            seen.add((row.type, row.document))
            rows.append(row)
    except csv.Error as exc:
        raise MalformedSettlementError(f"line {reader.line_num}: {exc}") from exc
    return rows


def _compare(row: SettlementRow, entry: LedgerRow) -> list[Mismatch]:
    found: list[Mismatch] = []
    for problem, differs, file_value, ledger_value in (
        (
            "out_trade_no_differs",
            row.out_trade_no != entry.out_trade_no,
            row.out_trade_no,
            entry.out_trade_no,
        ),
        ("amount_differs", row.amount != entry.amount, str(row.amount), str(entry.amount)),
        ("currency_differs", row.currency != entry.currency, row.currency, entry.currency),
    ):
        if differs:
            found.append(
                Mismatch(
                    problem,
                    row.type,
                    row.document,
                    row.out_trade_no,
                    file_value=file_value,
                    ledger_value=ledger_value,
                    line=row.line,
                )
            )
    return found


def match_settlement(
    file_rows: Sequence[SettlementRow],
    ledger_by_document: Mapping[tuple[str, str], LedgerRow],
    ledger_in_window: Iterable[LedgerRow],
) -> list[Mismatch]:
    """Every difference between the file and the ledger.

    ``ledger_by_document`` holds the ledger entries the file's documents name (any date);
    ``ledger_in_window`` every entry of the file's date range, which must all be in it.
    """
    mismatches: list[Mismatch] = []
    for row in file_rows:
        entry = ledger_by_document.get((row.type, row.document))
        if entry is None:
            mismatches.append(
                Mismatch(
                    "missing_in_ledger",
                    row.type,
                    row.document,
                    row.out_trade_no,
                    file_value=f"{row.amount} {row.currency}",
                    line=row.line,
                )
            )
        else:
            mismatches.extend(_compare(row, entry))
    in_file = {(row.type, row.document) for row in file_rows}
    mismatches.extend(
        Mismatch(
            "missing_in_file",
            entry.kind,
            entry.document,
            entry.out_trade_no,
            ledger_value=f"{entry.amount} {entry.currency}",
        )
        for entry in ledger_in_window
        if (entry.kind, entry.document) not in in_file
    )
    return mismatches
