"""Reading a day's till receipts from a file, one receipt at a time (never the whole file).

Two formats, chosen by the file's suffix:

- **JSON lines** (``.jsonl``, ``.ndjson``): one receipt per line, exactly the body of
  ``POST /api/v1/pos/sales`` (``pos.schemas.ReceiptIn``). Blank lines are skipped.
- **CSV** (``.csv``): one row per receipt line, the rows of a receipt one after another.
  Columns (header row, any order, names case-insensitive; extra columns are refused so a
  typo is not silently ignored):

  ============== ======== ==================================================================
  column         required what
  ============== ======== ==================================================================
  store          yes      the store's location code
  receipt_number yes      the till's receipt number (rows with the same store and number,
                          one after another, make one receipt)
  occurred_at    yes      ISO 8601 time with its UTC offset (``2026-11-27T10:15:00+08:00``)
  sku            yes      SKU code of the line (empty on a row that only carries a payment)
  quantity       yes      whole number ≥ 1
  unit_price     yes      decimal, two places at most
  discount       no       decimal, the line's discount (default 0)
  currency       no       ISO code (default CNY)
  member_phone   no       the member's mobile
  member_card    no       the member's card number
  payment_method no       cash, card, wechat, alipay, digital_rmb, points, other or a
                          usual name of one (``domain.payment_method_code``) (a payment
                          on this row; needed when any payment column of the row is
                          filled in)
  payment_amount no       what that payment paid
  payment_points no       for ``points``: how many points paid ``payment_amount``
  hold_id        no       for ``points``: the points hold taken at the till
  ============== ======== ==================================================================

Each receipt is validated by the same schema as the API (``ReceiptIn``), so a receipt means
the same whichever way it arrives. A receipt that cannot be read becomes a ``RejectedRow``
(its line in the file, store and number when known, a code and a reason) and reading goes
on; a file that cannot be read at all (missing, not UTF-8, no header, missing columns)
raises ``PosFileError``.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError, model_validator

from omnimall.core.errors import ValidationFailedError
from omnimall.pos import schemas
from omnimall.pos.domain import Sale

JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
REQUIRED_COLUMNS = ("store", "receipt_number", "occurred_at", "sku", "quantity", "unit_price")
OPTIONAL_COLUMNS = (
    "discount",
    "currency",
    "member_phone",
    "member_card",
    "payment_method",
    "payment_amount",
    "payment_points",
    "hold_id",
)
_PAYMENT_COLUMNS = ("payment_method", "payment_amount", "payment_points", "hold_id")
# A receipt holds at most 500 lines (ReceiptIn); rows past this are counted, not kept.
MAX_ROWS_PER_RECEIPT = 1000
_WHOLE = re.compile(r"^[+-]?\d+$")


class PosFileError(ValidationFailedError):
    code = "invalid_pos_file"
    message = "The receipts file cannot be read."


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A receipt the reader could not turn into a ``Sale``."""

    line: int  # the receipt's (first) line in the file
    store: str
    receipt_number: str
    code: str
    message: str


Parsed = Sale | RejectedRow


# --- the API's schema, without Ninja's double validation -----------------------------------
#
# ``ninja.Schema`` wraps every model in a validator that, for ``extra="forbid"`` schemas,
# validates the input twice (once as given, once through its ORM-attribute getter), and
# nested schemas twice per level: a receipt costs ~270 µs to parse, more than the rest of
# the batch path. These subclasses replace that wrapper (by its name, which is how pydantic
# overrides a validator) with a pass-through and keep every field, constraint and
# validator of ``pos.schemas``: the same input gives the same receipt or the same errors
# (tests/pos/test_reading.py compares them), in ~35 µs.


class _Plain:
    @model_validator(mode="before")
    @classmethod
    def _run_root_validator(cls, values: Any) -> Any:
        return values


class _SaleLineIn(_Plain, schemas.SaleLineIn):
    pass


class _PaymentIn(_Plain, schemas.PaymentIn):
    pass


class _MemberRefIn(_Plain, schemas.MemberRefIn):
    pass


class ReceiptIn(_Plain, schemas.ReceiptIn):
    """``pos.schemas.ReceiptIn``, validated once (see above)."""

    lines: list[_SaleLineIn] = schemas.ReceiptIn.model_fields["lines"]  # type: ignore[assignment]
    payments: list[_PaymentIn] = schemas.ReceiptIn.model_fields["payments"]  # type: ignore[assignment]
    member: _MemberRefIn | None = schemas.ReceiptIn.model_fields["member"]  # type: ignore[assignment]


def parse_receipt(data: Any, *, line: int = 0) -> Parsed:
    """One receipt as the API's JSON body (a dict): a ``Sale``, or why not — also when it
    is no JSON object at all (an entry of a batch's list: ``line`` is its position)."""
    if not isinstance(data, dict):
        where = f"receipt {line}" if line else "the receipt"
        message = f"{where} is not a JSON object but {_json_kind(data)}"
        return RejectedRow(line, "", "", "invalid_receipt", message)
    try:
        return ReceiptIn.model_validate(data).to_domain()
    except ValidationError as error:
        store, number = _identity_of_dict(data)
        return RejectedRow(line, store, number, "invalid_receipt", describe_errors(error))


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else type(value).__name__


def describe_errors(error: ValidationError, *, limit: int = 3) -> str:
    """Pydantic's errors as one short line: ``lines.0.quantity: Input should be …``."""
    parts = []
    for item in error.errors()[:limit]:
        where = ".".join(str(p) for p in item.get("loc", ()))
        text = str(item.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{where}: {text}" if where else text)
    more = error.error_count() - limit
    if more > 0:
        parts.append(f"(+{more} more)")
    return "; ".join(parts)


# --- JSON lines ---------------------------------------------------------------------------


def read_jsonl(lines: Iterable[str]) -> Iterator[Parsed]:
    """One ``Sale`` (or ``RejectedRow``) per non-blank line."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            yield ReceiptIn.model_validate_json(text).to_domain()
        except ValidationError as error:
            store, receipt = _identity_of(text)
            code = "invalid_json" if _is_json_error(error) else "invalid_receipt"
            yield RejectedRow(number, store, receipt, code, describe_errors(error))


def _is_json_error(error: ValidationError) -> bool:
    return any(item.get("type") == "json_invalid" for item in error.errors())


def _identity_of(text: str) -> tuple[str, str]:
    """Store and receipt number of a line that failed validation, when they can be read."""
    try:
        return _identity_of_dict(json.loads(text))
    except ValueError:
        return "", ""


def _identity_of_dict(data: Any) -> tuple[str, str]:
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("store", ""))[:64], str(data.get("receipt_number", ""))[:64]


# --- CSV ----------------------------------------------------------------------------------


def read_csv(lines: Iterable[str]) -> Iterator[Parsed]:
    """Receipts from CSV rows (one per receipt line), grouped by consecutive (store, number).

    Raises ``PosFileError`` when the header is missing, lacks a required column or names
    an unknown one.
    """
    reader = csv.reader(lines)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise PosFileError("The file is empty: no header row.") from None
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS and c not in OPTIONAL_COLUMNS]
    if missing or unknown:
        raise PosFileError(
            "The CSV header does not fit: "
            + ", ".join(
                [f"missing {', '.join(missing)}"] * bool(missing)
                + [f"unknown {', '.join(unknown)}"] * bool(unknown)
            ),
            missing_columns=missing,
            unknown_columns=unknown,
            found=header,
        )
    group: _Group | None = None
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        record = dict(zip(header, (cell.strip() for cell in row), strict=False))
        key = (record.get("store", ""), record.get("receipt_number", ""))
        if group is not None and group.key != key:
            yield group.parse()
            group = None
        if group is None:
            group = _Group(key=key, line=reader.line_num)
        group.add(record, reader.line_num)
    if group is not None:
        yield group.parse()


class _Group:
    """The rows of one receipt, gathered into the API's JSON shape."""

    def __init__(self, *, key: tuple[str, str], line: int) -> None:
        self.key = key
        self.line = line
        self.rows = 0
        self.body: dict[str, Any] = {"store": key[0], "receipt_number": key[1]}
        self.lines: list[dict[str, Any]] = []
        self.payments: list[dict[str, Any]] = []
        self.problem = ""

    def add(self, record: dict[str, str], line: int) -> None:
        self.rows += 1
        if self.rows > MAX_ROWS_PER_RECEIPT or self.problem:
            return
        for column, field in (("occurred_at", "occurred_at"), ("currency", "currency")):
            value = record.get(column, "")
            if value and self.body.setdefault(field, value) != value:
                self.problem = f"line {line}: {column} differs from the receipt's first row"
        phone, card = record.get("member_phone", ""), record.get("member_card", "")
        if phone or card:
            member = {"phone": phone, "card": card}
            if self.body.setdefault("member", member) != member:
                self.problem = f"line {line}: the member differs from the receipt's first row"
        if record.get("sku"):
            item: dict[str, Any] = {
                "sku": record["sku"],
                "quantity": _whole(record.get("quantity", "")),
                "unit_price": record.get("unit_price", ""),
            }
            if record.get("discount"):
                item["discount"] = record["discount"]
            self.lines.append(item)
        if any(record.get(column) for column in _PAYMENT_COLUMNS):
            # A payment named by any of its cells, so one without its method (a cell of
            # only spaces is read empty) is refused by the schema, not dropped unseen.
            payment: dict[str, Any] = {
                "method": record.get("payment_method", ""),
                "amount": record.get("payment_amount", ""),
            }
            if record.get("payment_points"):
                payment["points"] = _whole(record["payment_points"])
            if record.get("hold_id"):
                payment["hold_id"] = _whole(record["hold_id"])
            self.payments.append(payment)

    def parse(self) -> Parsed:
        store, number = self.key
        if self.problem:
            return RejectedRow(self.line, store, number, "invalid_receipt", self.problem)
        if self.rows > MAX_ROWS_PER_RECEIPT:
            message = f"{self.rows} rows: a receipt holds at most 500 lines"
            return RejectedRow(self.line, store, number, "invalid_receipt", message)
        body = {**self.body, "lines": self.lines, "payments": self.payments}
        try:
            return ReceiptIn.model_validate(body).to_domain()
        except ValidationError as error:
            return RejectedRow(self.line, store, number, "invalid_receipt", describe_errors(error))


def _whole(text: str) -> int | str:
    """A whole number as an int (the schema wants strict ints); anything else as given."""
    return int(text) if _WHOLE.match(text) else text


# --- files --------------------------------------------------------------------------------


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise PosFileError(
        f"{path.name}: unknown format; name the file .jsonl (JSON lines) or .csv.",
        suffix=suffix,
    )


def read_sales(path: Path, *, on_bytes: Callable[[int], object] | None = None) -> Iterator[Parsed]:
    """The receipts of ``path``, streamed; ``on_bytes(n)`` is told of every ``n`` bytes read
    (for a progress bar). Raises ``PosFileError`` if the file cannot be opened or decoded."""
    kind = file_format(path)
    try:
        handle = path.open("rb")
    except OSError as error:
        raise PosFileError(f"cannot read {path}: {error.strerror or error}") from error
    with handle:
        lines = _decoded(handle, on_bytes=on_bytes)
        yield from read_jsonl(lines) if kind == "jsonl" else read_csv(lines)


def _decoded(handle: Iterable[bytes], *, on_bytes: Callable[[int], object] | None) -> Iterator[str]:
    for number, raw in enumerate(handle, start=1):
        if on_bytes is not None:
            on_bytes(len(raw))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise PosFileError(f"line {number} is not UTF-8 text", line=number) from error
        yield text.removeprefix("\ufeff") if number == 1 else text
