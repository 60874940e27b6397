"""Reads of till receipts, returns and holds that the API, the services and the admin share.

The API answers with these views, built from the stored rows: the first answer to a
receipt and every replay of it are therefore the same body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from omnimall.inventory.models import LocationKind
from omnimall.inventory.selectors.fulfilment import get_location_ref
from omnimall.pos.models import Receipt, TillReturn


@dataclass(frozen=True, slots=True)
class StoreRef:
    id: int
    code: str


def get_store(*, code: str) -> StoreRef | None:
    """The store (an active or inactive location of kind ``store``) with this code."""
    ref = get_location_ref(code=code)
    if ref is None or ref.kind != LocationKind.STORE:
        return None
    return StoreRef(id=ref.id, code=ref.code)


@dataclass(frozen=True, slots=True)
class ReceiptLineView:
    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal
    points_earned: int
    quantity_returned: int


@dataclass(frozen=True, slots=True)
class ReceiptView:
    id: int
    store: str
    number: str
    occurred_at: datetime
    state: str
    flags: tuple[dict[str, Any], ...]
    total: Decimal
    discount_total: Decimal
    currency: str
    points_spent: int
    points_earned: int
    member_card: str | None
    payload_hash: str
    lines: tuple[ReceiptLineView, ...]


def get_receipt(*, receipt_id: int) -> ReceiptView:
    receipt = (
        Receipt.objects.select_related("store", "member")
        .prefetch_related("lines")
        .get(pk=receipt_id)
    )
    return _receipt_view(receipt)


def _receipt_view(receipt: Receipt) -> ReceiptView:
    return ReceiptView(
        id=receipt.pk,
        store=receipt.store.code,
        number=receipt.number,
        occurred_at=receipt.occurred_at,
        state=receipt.state,
        flags=tuple(receipt.flags or ()),
        total=receipt.total,
        discount_total=receipt.discount_total,
        currency=receipt.currency,
        points_spent=receipt.points_spent,
        points_earned=receipt.points_earned,
        member_card=receipt.member.card_number if receipt.member else None,
        payload_hash=receipt.payload_hash,
        lines=tuple(
            ReceiptLineView(
                line_no=line.line_no,
                sku=line.sku_code,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                line_total=line.line_total,
                points_earned=line.points_earned,
                quantity_returned=line.quantity_returned,
            )
            for line in receipt.lines.all()
        ),
    )


@dataclass(frozen=True, slots=True)
class ReturnLineView:
    line_no: int | None
    sku: str
    quantity: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TillReturnView:
    id: int
    store: str
    number: str
    occurred_at: datetime
    receipt_number: str | None
    member_card: str | None
    authorised_by: str
    refund_total: Decimal
    refund_method: str | None  # None: not known
    points_reversed: int
    points_restored: int
    flags: tuple[dict[str, Any], ...]
    lines: tuple[ReturnLineView, ...]


def get_till_return(*, return_id: int) -> TillReturnView:
    till_return = (
        TillReturn.objects.select_related("store", "receipt", "member")
        .prefetch_related("lines__sku", "lines__receipt_line")
        .get(pk=return_id)
    )
    return TillReturnView(
        id=till_return.pk,
        store=till_return.store.code,
        number=till_return.number,
        occurred_at=till_return.occurred_at,
        receipt_number=till_return.receipt.number if till_return.receipt else None,
        member_card=till_return.member.card_number if till_return.member else None,
        authorised_by=till_return.authorised_by,
        refund_total=till_return.refund_total,
        refund_method=till_return.refund_method or None,
        points_reversed=till_return.points_reversed,
        points_restored=till_return.points_restored,
        flags=tuple(till_return.flags or ()),
        lines=tuple(
            ReturnLineView(
                line_no=line.receipt_line.line_no if line.receipt_line else None,
                sku=line.sku.code,
                quantity=line.quantity,
                amount=line.amount,
            )
            for line in sorted(till_return.lines.all(), key=lambda line: line.pk)
        ),
    )
