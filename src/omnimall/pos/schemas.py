"""What a till sends, validated once for the API, the batch endpoint and the file import.

Unknown fields are refused (``extra="forbid"``); amounts are decimals with at most two
places, given as JSON strings or numbers; quantities are strict whole numbers; times carry
their UTC offset, from 2000 on and at most a day ahead of the server's clock; codes,
numbers and payment methods are not only spaces, and a receipt number does not begin with
``return:`` (``domain.receipt_number_problem``).

Text is kept as the till wrote it, spaces around it included (``" R-1 "`` stays so): it
is part of the fingerprint that tells a retry from a conflict (``domain.Sale.payload_hash``),
and trimming it now would make the retry of a receipt recorded before a 409. A payment's
method is the exception: it is read into its code (``domain.payment_method_code``:
``" Cash "``, ``"现金"`` → ``cash``), and a method the shop does not know is refused.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field
from pydantic import AfterValidator, BeforeValidator, StrictInt, StrictStr, model_validator

from omnimall.core import clock
from omnimall.core.api.schemas import StrictIn, text_or_datetime
from omnimall.pos import domain


def _not_blank(what: str) -> AfterValidator:
    """Refuses text of only spaces (a till's empty field padded), asking for ``what``."""

    def check(value: str) -> str:
        if not value.strip():
            raise ValueError(f"only spaces: give {what}")
        return value

    return AfterValidator(check)


Amount = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
# A store, SKU, receipt or return code: 1 to 64 characters, not only spaces.
Code = Annotated[StrictStr, Field(min_length=1, max_length=64), _not_blank("the code or number")]


def _payment_method(value: str) -> str:
    code = domain.payment_method_code(value)
    if code is None:
        raise ValueError(
            f"unknown payment method {value.strip()!r}: give one of "
            f"{', '.join(domain.PAYMENT_METHODS)} (or a usual name of one: 现金, 微信, "
            "支付宝, 银联, …)"
        )
    return code


# How a payment was made: a code of ``domain.PAYMENT_METHODS``, or a usual name of one,
# read into its code; not only spaces.
PaymentMethod = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=20,
        description=(
            f"How the till was paid: {', '.join(domain.PAYMENT_METHODS)} (any case; usual "
            "names such as 现金, WeChat, 微信, 支付宝, 银联, UnionPay or bank card are read "
            "as their code)"
        ),
    ),
    _not_blank("the payment's method"),
    AfterValidator(_payment_method),
]


def _till_time(value: datetime) -> datetime:
    problem = domain.till_time_problem(value, now=clock.now())
    if problem:
        raise ValueError(problem)
    return value


# Text only (a JSON number is no till's time), then the till's rules, which word a missing
# UTC offset for the till's programmers.
TillTime = Annotated[datetime, BeforeValidator(text_or_datetime), AfterValidator(_till_time)]


def _receipt_reference(value: str) -> str:
    if value and not value.strip():
        raise ValueError(
            "only spaces: give the receipt's number, or leave it empty for a return "
            "without a receipt"
        )
    return value


def _receipt_number(value: str) -> str:
    problem = domain.receipt_number_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# A receipt's own number (a receipt, a points hold for it): not ``return:…``.
ReceiptNumber = Annotated[Code, AfterValidator(_receipt_number)]


class SaleLineIn(StrictIn):
    sku: Code = Field(description="SKU code")
    quantity: Annotated[StrictInt, Field(ge=1, le=10_000)]
    unit_price: Amount
    discount: Amount = Decimal("0")


class PaymentIn(StrictIn):
    method: PaymentMethod
    amount: Amount
    points: Annotated[StrictInt, Field(ge=0, le=10**9)] = 0
    hold_id: Annotated[StrictInt, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _points_only_for_points(self) -> PaymentIn:
        if self.method == domain.POINTS_METHOD and self.points <= 0:
            raise ValueError("a points payment names how many points it used")
        if self.method != domain.POINTS_METHOD and (self.points or self.hold_id):
            raise ValueError("only a points payment carries points or a hold")
        return self


class MemberRefIn(StrictIn):
    phone: Annotated[StrictStr, Field(max_length=32)] = ""
    card: Annotated[StrictStr, Field(max_length=20)] = ""

    @model_validator(mode="after")
    def _one_given(self) -> MemberRefIn:
        if not self.phone.strip() and not self.card.strip():
            raise ValueError("give the member's phone or card")
        return self


class ReceiptIn(StrictIn):
    store: Code = Field(description="The store's location code (must be the key's store)")
    receipt_number: ReceiptNumber
    occurred_at: TillTime
    currency: Annotated[StrictStr, Field(min_length=3, max_length=3)] = "CNY"
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500)
    payments: list[PaymentIn] = Field(default_factory=list, max_length=20)
    member: MemberRefIn | None = None

    @model_validator(mode="after")
    def _lines_add_up(self) -> ReceiptIn:
        for line in self.lines:
            if line.discount > line.unit_price * line.quantity:
                raise ValueError(f"line {line.sku}: the discount exceeds the line")
        gross = sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))
        if gross > domain.MAX_AMOUNT:
            raise ValueError(
                f"the lines come to {gross} before discounts; a receipt is at most "
                f"{domain.MAX_AMOUNT}"
            )
        return self

    def to_domain(self) -> domain.Sale:
        return domain.Sale(
            store_code=self.store,
            number=self.receipt_number,
            occurred_at=self.occurred_at,
            currency=self.currency,
            lines=tuple(
                domain.SaleLine(
                    line_no=index,
                    sku_code=line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    discount=line.discount,
                )
                for index, line in enumerate(self.lines, start=1)
            ),
            payments=tuple(
                domain.TillPayment(
                    method=p.method, amount=p.amount, points=p.points, hold_id=p.hold_id
                )
                for p in self.payments
            ),
            member_phone=self.member.phone if self.member else "",
            member_card=self.member.card if self.member else "",
        )


class ReturnLineIn(StrictIn):
    sku: Code
    quantity: Annotated[StrictInt, Field(ge=1, le=10_000)]
    amount: Amount = Field(description="Refunded for this line")
    line_no: Annotated[StrictInt, Field(ge=1)] | None = Field(
        None, description="The original receipt's line (1-based), when returning against it"
    )


class TillReturnIn(StrictIn):
    store: Code
    return_number: Code
    occurred_at: TillTime
    receipt_number: Annotated[
        StrictStr, Field(max_length=64), AfterValidator(_receipt_reference)
    ] = ""
    authorised_by: Annotated[StrictStr, Field(max_length=120)] = ""
    reason: Annotated[StrictStr, Field(max_length=200)] = ""
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=500)
    member: MemberRefIn | None = None
    refund_method: PaymentMethod | None = Field(
        default=None,
        description=(
            "How the refund was paid out (not points: those come back by themselves). "
            "Left out: the original receipt's method when it was paid one way, else unknown."
        ),
    )

    @model_validator(mode="after")
    def _receipt_or_staff(self) -> TillReturnIn:
        if not self.receipt_number and not self.authorised_by.strip():
            raise ValueError("a return without a receipt needs authorised_by (the staff member)")
        if self.refund_method == domain.POINTS_METHOD:
            raise ValueError(
                "refund_method: points are given back with the return (points_restored), "
                "not paid out; say how the money was"
            )
        refund = sum((line.amount for line in self.lines), Decimal(0))
        if refund > domain.MAX_AMOUNT:
            raise ValueError(f"the lines refund {refund}; a return is at most {domain.MAX_AMOUNT}")
        return self

    def to_domain(self) -> domain.TillReturnIn:
        return domain.TillReturnIn(
            store_code=self.store,
            number=self.return_number,
            occurred_at=self.occurred_at,
            receipt_number=self.receipt_number,
            authorised_by=self.authorised_by.strip(),
            reason=self.reason,
            lines=tuple(
                domain.ReturnLine(
                    sku_code=line.sku,
                    quantity=line.quantity,
                    amount=line.amount,
                    line_no=line.line_no,
                )
                for line in self.lines
            ),
            member_phone=self.member.phone if self.member else "",
            member_card=self.member.card if self.member else "",
            refund_method=self.refund_method or "",
        )
