"""Pure rules of the partner points exchange: conversions, payload fingerprints and the
daily statement (reading, writing, matching). No Django import."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import IO, Any

from omnimall.core import days

STATEMENT_COLUMNS = (
    "transaction_id",
    "direction",
    "member_card",
    "partner_points",
    "brand_points",
    "state",
    "time",
    "partner_account",  # last: added later, so files read by position keep their columns
)
REQUIRED_COLUMNS = ("transaction_id", "direction", "partner_points", "state")
DIRECTIONS = ("in", "out")
STATES = ("reserved", "completed", "failed")


# --- conversions -----------------------------------------------------------------------


def brand_points_in(partner_points: int, rate: Decimal) -> int:
    """Inbound: floor(partner points × brand points per partner point)."""
    return int((Decimal(partner_points) * rate).to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True, slots=True)
class OutboundQuote:
    partner_points: int  # what the partner credits
    brand_points: int  # what the member gives (never more than asked)


def outbound_quote(brand_points: int, rate: Decimal) -> OutboundQuote:
    """Outbound: whole partner points for at most ``brand_points``, and the brand points
    they cost (ceil(partner points × rate), so the member never pays for a fraction)."""
    if brand_points <= 0 or rate <= 0:
        return OutboundQuote(partner_points=0, brand_points=0)
    partner_points = int((Decimal(brand_points) / rate).to_integral_value(rounding=ROUND_FLOOR))
    cost = math.ceil(Decimal(partner_points) * rate)
    if cost > brand_points:  # only reachable through rounding of the division
        partner_points -= 1
        cost = math.ceil(Decimal(partner_points) * rate)
    return OutboundQuote(partner_points=max(partner_points, 0), brand_points=max(cost, 0))


def payload_hash(payload: Mapping[str, Any]) -> str:
    """A fingerprint of what a transfer request asked (sorted JSON, SHA-256)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- the daily statement -----------------------------------------------------------------


class MalformedStatementError(ValueError):
    """The partner's file cannot be read as a statement."""


@dataclass(frozen=True, slots=True)
class StatementRow:
    transaction_id: str
    direction: str
    member_card: str
    partner_points: int
    brand_points: int | None  # the partner's file may leave it empty
    state: str
    time: datetime | None
    partner_account: str = ""  # the member's account at the partner, when known


@dataclass(frozen=True, slots=True)
class Mismatch:
    transaction_id: str
    direction: str
    # missing_in_file | missing_here | partner_points | brand_points | state | partner_account
    problem: str
    ours: str = ""
    theirs: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "transaction_id": self.transaction_id,
            "direction": self.direction,
            "problem": self.problem,
            "ours": self.ours,
            "theirs": self.theirs,
        }

    def describe(self) -> str:
        text = f"{self.direction} {self.transaction_id}: {self.problem}"
        if self.ours or self.theirs:
            text += f" (ours {self.ours or '-'}, theirs {self.theirs or '-'})"
        return text


def write_statement(rows: Iterable[StatementRow], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATEMENT_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(
            [
                row.transaction_id,
                row.direction,
                row.member_card,
                row.partner_points,
                "" if row.brand_points is None else row.brand_points,
                row.state,
                row.time.isoformat() if row.time else "",
                row.partner_account,
            ]
        )
        count += 1
    return count


def _int(value: str, *, line: int, column: str, optional: bool = False) -> int | None:
    text = (value or "").strip()
    if not text and optional:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise MalformedStatementError(f"line {line}: {column} {text!r} is not a number") from exc
    if number != number.to_integral_value() or number < 0:
        raise MalformedStatementError(f"line {line}: {column} {text!r} is not a whole number")
    return int(number)


def _time(value: str, *, line: int) -> datetime | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedStatementError(f"line {line}: time {text!r} is not ISO 8601") from exc
    if moment.tzinfo is None:
        raise MalformedStatementError(f"line {line}: time {text!r} has no UTC offset")
    if problem := days.moment_out_of_range(moment):
        raise MalformedStatementError(f"line {line}: time {problem}")
    return moment


def parse_statement(lines: Iterable[str]) -> list[StatementRow]:
    """Rows of a statement CSV (header line first; ``STATEMENT_COLUMNS``, extra columns
    ignored). Raises ``MalformedStatementError`` on anything it cannot trust."""
    reader = csv.DictReader(lines)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise MalformedStatementError(f"missing column(s): {', '.join(missing)}")
    reader.fieldnames = header
    rows: list[StatementRow] = []
    seen: set[tuple[str, str]] = set()
    try:
        for record in reader:
            line = reader.line_num
            txn = (record.get("transaction_id") or "").strip()
            direction = (record.get("direction") or "").strip().lower()
            state = (record.get("state") or "").strip().lower()
            if not txn or len(txn) > 64:
                raise MalformedStatementError(f"line {line}: bad transaction_id {txn!r}")
            if direction not in DIRECTIONS:
                raise MalformedStatementError(f"line {line}: direction {direction!r}")
            if state not in STATES:
                raise MalformedStatementError(f"line {line}: state {state!r}")
            if (direction, txn) in seen:
                raise MalformedStatementError(f"line {line}: {direction} {txn} appears twice")
            seen.add((direction, txn))
            partner_points = _int(
                record.get("partner_points", ""), line=line, column="partner_points"
            )
            rows.append(
                StatementRow(
                    transaction_id=txn,
                    direction=direction,
                    member_card=(record.get("member_card") or "").strip(),
                    partner_points=partner_points or 0,
                    brand_points=_int(
                        record.get("brand_points") or "",
                        line=line,
                        column="brand_points",
                        optional=True,
                    ),
                    state=state,
                    time=_time(record.get("time") or "", line=line),
                    partner_account=(record.get("partner_account") or "").strip(),
                )
            )
    except csv.Error as exc:
        raise MalformedStatementError(f"line {reader.line_num}: {exc}") from exc
    return rows


def match_statement(
    theirs: Sequence[StatementRow],
    ours_by_key: Mapping[tuple[str, str], StatementRow],
    ours_in_period: Iterable[StatementRow],
) -> tuple[int, list[Mismatch]]:
    """Match the partner's rows against ours on (direction, transaction_id).

    ``ours_by_key``: our transfers named in their file (whatever the day);
    ``ours_in_period``: our transfers of the statement's day(s), to find the ones their
    file lacks. A ``failed`` transfer missing on the other side is no mismatch: nothing
    moved on either side. Returns (rows that agree, mismatches).
    """
    mismatches: list[Mismatch] = []
    matched = 0
    for row in theirs:
        key = (row.direction, row.transaction_id)
        mine = ours_by_key.get(key)
        if mine is None and row.state == "failed":
            matched += 1  # a refused request we never recorded: nothing happened on either side
            continue
        if mine is None:
            mismatches.append(
                Mismatch(row.transaction_id, row.direction, "missing_here", theirs=row.state)
            )
            continue
        found = []
        if mine.partner_points != row.partner_points:
            found.append(
                Mismatch(
                    row.transaction_id,
                    row.direction,
                    "partner_points",
                    str(mine.partner_points),
                    str(row.partner_points),
                )
            )
        if row.brand_points is not None and mine.brand_points != row.brand_points:
            found.append(
                Mismatch(
                    row.transaction_id,
                    row.direction,
                    "brand_points",
                    str(mine.brand_points),
                    str(row.brand_points),
                )
            )
        if mine.state != row.state:
            found.append(
                Mismatch(row.transaction_id, row.direction, "state", mine.state, row.state)
            )
        # Compared only where both sides know it: older files have no such column.
        if (
            mine.partner_account
            and row.partner_account
            and (row.partner_account != mine.partner_account)
        ):
            found.append(
                Mismatch(
                    row.transaction_id,
                    row.direction,
                    "partner_account",
                    mine.partner_account,
                    row.partner_account,
                )
            )
        if found:
            mismatches.extend(found)
        else:
            matched += 1
    named = {(row.direction, row.transaction_id) for row in theirs}
    mismatches.extend(
        Mismatch(mine.transaction_id, mine.direction, "missing_in_file", ours=mine.state)
        for mine in ours_in_period
        if (mine.direction, mine.transaction_id) not in named and mine.state != "failed"
    )
    return matched, mismatches
