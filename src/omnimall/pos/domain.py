"""A till receipt as the services see it: pure Python, no Django.

The API (one receipt), the batch endpoint and the file import all parse into these
frozen dataclasses through ``pos.schemas.ReceiptIn`` and hand them to the services,
so a receipt means the same whichever way it arrived.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")

# --- payment methods -------------------------------------------------------------------------
#
# A till names how it was paid in its own words ("Cash", "现金", "WeChat", "银联"). Sums by
# method and the fingerprint that tells a retry from another sale need one word per way of
# paying, so every payment method is read through ``payment_method_code`` into one of
# these codes, and a word it does not know is refused rather than stored as a method of
# its own. docs/pos.md lists the codes and the words read as each.
CASH = "cash"
CARD = "card"  # a bank card of any scheme, debit or credit: UnionPay (银联), Visa, …
WECHAT = "wechat"  # WeChat Pay (微信支付)
ALIPAY = "alipay"  # 支付宝
DIGITAL_RMB = "digital_rmb"  # the central bank's e-CNY (数字人民币)
POINTS_METHOD = "points"  # the member's points, at their money value
OTHER = "other"  # any other way the store took (a voucher, a mall's card, …)
PAYMENT_METHODS = (CASH, CARD, WECHAT, ALIPAY, DIGITAL_RMB, POINTS_METHOD, OTHER)

# The usual names of each method, besides its code. Matched after ``_method_key`` folds
# case, full-width forms, spaces, ``_``, ``-`` and ``.`` away ("WeChat Pay", "wechat_pay"
# and "ＷｅＣｈａｔ　Ｐａｙ" are one key).
_METHOD_NAMES: dict[str, tuple[str, ...]] = {
    CASH: ("现金", "现钞"),
    CARD: (
        "bank card",
        "UnionPay",
        "银联",
        "银联卡",
        "银行卡",
        "刷卡",
        "credit card",
        "debit card",
        "信用卡",
        "借记卡",
        "储蓄卡",
        "Visa",
        "Mastercard",
        # UnionPay's own app (QuickPass) settles through the card scheme like a card.
        "云闪付",
        "QuickPass",
    ),
    WECHAT: ("WeChat Pay", "weixin", "weixin pay", "wxpay", "微信", "微信支付"),
    ALIPAY: ("zhifubao", "支付宝"),
    DIGITAL_RMB: ("e-CNY", "digital yuan", "DCEP", "数字人民币", "数币"),
    POINTS_METHOD: ("member points", "积分", "会员积分", "积分抵扣"),
    OTHER: ("其他", "其它"),
}
_METHOD_SEPARATORS = re.compile(r"[\s_.\-]+")


def _method_key(text: str) -> str:
    return _METHOD_SEPARATORS.sub("", unicodedata.normalize("NFKC", text).casefold())


_METHOD_BY_KEY = {
    _method_key(name): code
    for code in PAYMENT_METHODS
    for name in (code, *_METHOD_NAMES.get(code, ()))
}


def payment_method_code(text: str) -> str | None:
    """The code (``PAYMENT_METHODS``) of a payment method as a till names it, in any case,
    spacing or usual name (``" CASH "``, ``"现金"`` → ``cash``); None when unknown."""
    return _METHOD_BY_KEY.get(_method_key(text))


# The most one receipt (before its discounts) or one return may come to: far above any
# till sale, and well inside what the ledgers hold (12-digit amounts, and the points a
# tier earns on it within the points columns).
MAX_AMOUNT = Decimal("10000000.00")
# When a till's sale or return may have happened: not before this, and not later than the
# server's clock plus a day (a till's clock or offset set wrong). A purchase dated in the
# future would count toward the member's 12-month spend for years.
EARLIEST_TILL_TIME = datetime(2000, 1, 1, tzinfo=UTC)
TILL_CLOCK_AHEAD = timedelta(days=1)


# A receipt's ledger keys are ``pos:<store>:<number>[:…]`` (its purchase, earn, spend,
# hold). Till returns recorded before 2026-11-29 have ``pos:<store>:return:<number>[:…]``:
# a receipt numbered ``return:T1`` would share the purchase key of return ``T1``. Such
# numbers are refused; returns now key under ``pos-return:``, which no receipt can have.
RESERVED_RECEIPT_PREFIX = "return:"


def single_money_method(payments: Iterable[Mapping[str, Any]] | None) -> str:
    """The one way a receipt's stored payments were made, points aside (they come back by
    themselves), else empty: a return's refund goes back the way the money came, as tills
    do, when the till does not say."""
    methods = {p.get("method") for p in payments or () if p.get("method") != POINTS_METHOD}
    if len(methods) != 1:
        return ""
    (method,) = methods
    return method if isinstance(method, str) and method in PAYMENT_METHODS else ""


def receipt_number_problem(number: str) -> str | None:
    """Why ``number`` cannot be a receipt's number; None when it can."""
    if number.startswith(RESERVED_RECEIPT_PREFIX):
        return (
            f"a receipt number may not begin with '{RESERVED_RECEIPT_PREFIX}' (the till "
            "returns' ledger keys do)"
        )
    return None


def till_time_problem(at: datetime, *, now: datetime) -> str | None:
    """Why ``at`` cannot be when a till sold or took back goods; None when it can."""
    if at.tzinfo is None:
        return "give the time with its UTC offset"
    try:
        at = at.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved by its offset
        return "the time is out of range"
    if at < EARLIEST_TILL_TIME:
        return f"the time is before {EARLIEST_TILL_TIME:%Y-%m-%d}"
    if at > now + TILL_CLOCK_AHEAD:
        return "the time is more than a day ahead of the server's clock"
    return None


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class SaleLine:
    line_no: int
    sku_code: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal("0")

    @property
    def line_total(self) -> Decimal:
        return _cents(self.unit_price * self.quantity - self.discount)


@dataclass(frozen=True, slots=True)
class TillPayment:
    method: str  # a code of PAYMENT_METHODS (the schema reads a till's words into one)
    amount: Decimal
    points: int = 0  # for method "points": how many points paid ``amount``
    hold_id: int | None = None  # a points hold taken at the till, committed by the sale


@dataclass(frozen=True, slots=True)
class Sale:
    store_code: str
    number: str
    occurred_at: datetime
    lines: tuple[SaleLine, ...]
    payments: tuple[TillPayment, ...] = ()
    member_phone: str = ""
    member_card: str = ""
    currency: str = "CNY"

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0.00"))

    @property
    def discount_total(self) -> Decimal:
        return sum((line.discount for line in self.lines), Decimal("0.00"))

    @property
    def paid(self) -> Decimal:
        """What the payments add up to (a points payment at its money value)."""
        return sum((p.amount for p in self.payments), Decimal("0.00"))

    def is_settled_in(self, currency: str) -> bool:
        """In ``currency`` and paid exactly: the payments add up to the total, no more
        and no less (what a till kept: cash handed over minus the change)."""
        return self.currency == currency and self.paid == self.total

    @property
    def points_paid(self) -> int:
        return sum(p.points for p in self.payments if p.method == POINTS_METHOD)

    @property
    def points_paid_value(self) -> Decimal:
        return sum((p.amount for p in self.payments if p.method == POINTS_METHOD), Decimal("0"))

    @property
    def has_member(self) -> bool:
        return bool(self.member_phone or self.member_card)

    def payload_hash(self) -> str:
        """A stable digest of what the receipt says: a replay with another payload is a 409.

        Amounts count to the cent and the time as an instant, so the same receipt written
        another way (``10`` for ``"10.00"``, a discount of ``"0"`` or none, ``+08:00`` or
        ``Z``) is the same receipt: a till's retry, or another exporter's end-of-day file
        of receipts the till posted live, replays.
        """
        return _digest(self._hashed(amount=_amount_text, at=_instant_text))

    def payload_hash_v1(self) -> str:
        """The digest of receipts recorded before amounts and times were normalised
        (2026-11-29): both as the till wrote them. Their rows keep it, and a receipt sent
        again written as the first time still gives it, so it still replays."""
        return _digest(self._hashed(amount=str, at=datetime.isoformat))

    def payload_hashes_as_written(self, methods: Sequence[str]) -> tuple[str, str]:
        """``payload_hash`` and ``payload_hash_v1`` of this receipt with its payments'
        methods written as ``methods`` (one per payment, in order).

        Receipts recorded before payment methods were read into codes (2026-11-29) kept the
        digest of the method as the till wrote it (``" Cash "``); the migration that
        turned their stored methods into codes kept that text, and with it the digest of
        such a receipt can be found again.
        """
        payments = tuple(
            replace(p, method=method) for p, method in zip(self.payments, methods, strict=True)
        )
        written = replace(self, payments=payments)
        return written.payload_hash(), written.payload_hash_v1()

    def _hashed(
        self, *, amount: Callable[[Decimal], str], at: Callable[[datetime], str]
    ) -> dict[str, object]:
        return {
            "store": self.store_code,
            "number": self.number,
            "at": at(self.occurred_at),
            "currency": self.currency,
            "member": [self.member_phone, self.member_card],
            "lines": [
                [
                    line.line_no,
                    line.sku_code,
                    line.quantity,
                    amount(line.unit_price),
                    amount(line.discount),
                ]
                for line in self.lines
            ],
            "payments": [[p.method, amount(p.amount), p.points, p.hold_id] for p in self.payments],
        }


@dataclass(frozen=True, slots=True)
class ReturnLine:
    sku_code: str
    quantity: int
    amount: Decimal  # refunded for this line
    line_no: int | None = None  # the original receipt's line, when there is one


@dataclass(frozen=True, slots=True)
class TillReturnIn:
    store_code: str
    number: str
    occurred_at: datetime
    lines: tuple[ReturnLine, ...]
    receipt_number: str = ""  # empty: a return without receipt (needs authorised_by)
    authorised_by: str = ""
    reason: str = ""
    member_phone: str = ""
    member_card: str = ""
    # How the refund was paid out (a code of PAYMENT_METHODS other than points); empty:
    # the till did not say (the original receipt's way, when it was paid one way).
    refund_method: str = ""

    @property
    def refund_total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    def payload_hash(self) -> str:
        """A stable digest of everything the return says (who authorised it and why
        included; amounts to the cent, the time as an instant, as for a receipt): a replay
        with another payload is a 409."""
        return _digest(self._hashed(amount=_amount_text, at=_instant_text, who_and_why=True))

    def payload_hash_v2(self) -> str:
        """The digest of returns recorded before amounts and times were normalised
        (2026-11-29): both as the till wrote them."""
        return _digest(self._hashed(amount=str, at=datetime.isoformat, who_and_why=True))

    def payload_hash_v1(self) -> str:
        """The digest of returns recorded before ``authorised_by`` and ``reason`` were
        part of it (their rows keep both, for the caller to compare)."""
        return _digest(self._hashed(amount=str, at=datetime.isoformat, who_and_why=False))

    def _hashed(
        self,
        *,
        amount: Callable[[Decimal], str],
        at: Callable[[datetime], str],
        who_and_why: bool,
    ) -> dict[str, object]:
        hashed: dict[str, object] = {
            "store": self.store_code,
            "number": self.number,
            "at": at(self.occurred_at),
            "receipt": self.receipt_number,
            "member": [self.member_phone, self.member_card],
            "lines": [
                [line.line_no, line.sku_code, line.quantity, amount(line.amount)]
                for line in self.lines
            ],
        }
        if who_and_why:
            hashed |= {"authorised_by": self.authorised_by, "reason": self.reason}
        if self.refund_method:  # only when given: returns recorded before it keep theirs
            hashed["refund_method"] = self.refund_method
        return hashed


def _amount_text(amount: Decimal) -> str:
    """An amount as a fingerprint writes it: to the cent (``10``, ``10.0`` and ``"10.00"``
    alike; ``-0`` is ``0.00``)."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP) + 0)


def _instant_text(at: datetime) -> str:
    """A time as a fingerprint writes it: the instant in UTC (``18:30+08:00`` is
    ``10:30Z``). A naive time (never from a till's body: the schema refuses it) as given."""
    return at.astimezone(UTC).isoformat() if at.tzinfo is not None else at.isoformat()


def _digest(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
