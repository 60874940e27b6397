"""A till return's lines matched to its receipt's lines, and the returned units claimed.

Each return line goes to the receipt line it names (``line_no``: its SKU must match) or
is spread over the receipt's lines of its SKU in order, never past what each line has
left to return (quantity) and to refund (amount). Runs inside the return's transaction,
with the receipt row locked, so concurrent returns against one receipt take turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Sum

from omnimall.core.money import quantize
from omnimall.pos import domain
from omnimall.pos.errors import ReturnExceedsSaleError, ReturnLineError
from omnimall.pos.models import Receipt, ReceiptLine, TillReturnLine


@dataclass(frozen=True, slots=True)
class ReturnPart:
    """A piece of a return line matched to one receipt line (or to none)."""

    sku_id: int
    quantity: int
    amount: Decimal
    receipt_line: ReceiptLine | None


def refunded_by_line(receipt: Receipt) -> dict[int, Decimal]:
    """What earlier returns refunded, per line of ``receipt``."""
    rows = (
        TillReturnLine.objects.filter(receipt_line__receipt=receipt)
        .values("receipt_line_id")
        .annotate(total=Sum("amount"))
    )
    return {r["receipt_line_id"]: r["total"] or Decimal("0") for r in rows}


def match_receipt_lines(
    till_return: domain.TillReturnIn, *, receipt: Receipt, refunded: dict[int, Decimal]
) -> list[ReturnPart]:
    """Match the return's lines to the receipt's; ``refunded`` = refunded before, per line."""
    lines = list(receipt.lines.order_by("line_no"))
    by_no = {line.line_no: line for line in lines}
    room = {line.pk: line.quantity - line.quantity_returned for line in lines}
    refunded = dict(refunded)
    parts: list[ReturnPart] = []
    for wanted in till_return.lines:
        if wanted.line_no is not None:
            line = by_no.get(wanted.line_no)
            if line is None or line.sku_code != wanted.sku_code:
                raise ReturnLineError(line_no=wanted.line_no, sku=wanted.sku_code)
            parts.append(_take(line, wanted.quantity, wanted.amount, room, refunded))
            continue
        candidates = [
            line for line in lines if line.sku_code == wanted.sku_code and room[line.pk] > 0
        ]
        if not candidates:
            if any(line.sku_code == wanted.sku_code for line in lines):
                raise ReturnExceedsSaleError(sku=wanted.sku_code)
            raise ReturnLineError(sku=wanted.sku_code)
        parts.extend(_spread(wanted, candidates, room, refunded))
    for part in parts:
        assert part.receipt_line is not None  # noqa: S101 (matched above)
        matched = ReceiptLine.objects.filter(
            pk=part.receipt_line.pk, quantity__gte=F("quantity_returned") + part.quantity
        ).update(quantity_returned=F("quantity_returned") + part.quantity)
        if matched != 1:  # pragma: no cover - the receipt is locked
            raise ReturnExceedsSaleError(sku=part.receipt_line.sku_code)
    return parts


def _take(
    line: ReceiptLine,
    quantity: int,
    amount: Decimal,
    room: dict[int, int],
    refunded: dict[int, Decimal],
) -> ReturnPart:
    already = refunded.get(line.pk, Decimal("0"))
    if quantity > room[line.pk] or already + amount > line.line_total:
        raise ReturnExceedsSaleError(
            line_no=line.line_no,
            sku=line.sku_code,
            returnable=room[line.pk],
            refundable=str(line.line_total - already),
        )
    room[line.pk] -= quantity
    refunded[line.pk] = already + amount
    return ReturnPart(line.sku_id, quantity, amount, line)


def _spread(
    wanted: domain.ReturnLine,
    candidates: list[ReceiptLine],
    room: dict[int, int],
    refunded: dict[int, Decimal],
) -> list[ReturnPart]:
    """A return line by SKU over the receipt's lines of that SKU (amount by quantity)."""
    if wanted.quantity > sum(room[line.pk] for line in candidates):
        raise ReturnExceedsSaleError(sku=wanted.sku_code)
    parts: list[ReturnPart] = []
    left_quantity, left_amount = wanted.quantity, wanted.amount
    for line in candidates:
        if left_quantity == 0:
            break
        quantity = min(left_quantity, room[line.pk])
        last = quantity == left_quantity
        amount = left_amount if last else quantize(wanted.amount * quantity / wanted.quantity)
        parts.append(_take(line, quantity, amount, room, refunded))
        left_quantity -= quantity
        left_amount -= amount
    return parts
