"""Schemas of the WMS/store integration API, and the functions that fill them.

Counts and quantities are typed loosely on input (any JSON value) so that a bad row is
reported with its row number in ``details.rows`` by the service's validation, together
with every other bad row, instead of failing the whole body at the schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import StrictInt

from omnimall.core.api.schemas import JsonDateTime, StrictIn

from .selectors.fulfilment import FulfilmentRequestPage, FulfilmentRequestView
from .services.stock_rows import BatchResult

MAX_LINES = 5000
WHOLE_NUMBER: dict[str, Any] = {"type": "integer"}

# --- errors ----------------------------------------------------------------------------


# --- stock reports and receipts ----------------------------------------------------------


class CountLineIn(StrictIn):
    sku: str = Field(..., max_length=64, description="SKU code")
    count: Any = Field(
        ..., description="Units counted (a whole number ≥ 0)", json_schema_extra=WHOLE_NUMBER
    )


class StockReportIn(StrictIn):
    location: str = Field(..., max_length=40, description="Stock location code")
    counted_at: JsonDateTime | None = Field(None, description="When the count was taken")
    reference: str = Field("", max_length=120, description="The count's id in the WMS/POS")
    lines: list[CountLineIn] = Field(..., min_length=1, max_length=MAX_LINES)


class GoodsReceiptLineIn(StrictIn):
    sku: str = Field(..., max_length=64, description="SKU code")
    quantity: Any = Field(
        ..., description="Units received (a whole number > 0)", json_schema_extra=WHOLE_NUMBER
    )


class GoodsReceiptIn(StrictIn):
    location: str = Field(..., max_length=40, description="Stock location code")
    reference: str = Field(..., min_length=1, max_length=120, description="ASN or PO number")
    lines: list[GoodsReceiptLineIn] = Field(..., min_length=1, max_length=MAX_LINES)


class StockBatchLineOut(Schema):
    row: int
    sku: str
    before: int
    after: int
    delta: int


class StockBatchTotalsOut(Schema):
    lines: int
    changed: int
    units_added: int
    units_removed: int
    net: int


class StockBatchOut(Schema):
    location: str
    reference: str
    lines: list[StockBatchLineOut]
    totals: StockBatchTotalsOut


def batch_out(result: BatchResult, *, location: str, reference: str) -> dict[str, Any]:
    return StockBatchOut(
        location=location,
        reference=reference,
        lines=[
            StockBatchLineOut(
                row=line.row, sku=line.sku, before=line.before, after=line.after, delta=line.delta
            )
            for line in result.lines
        ],
        totals=StockBatchTotalsOut(**result.totals()),
    ).model_dump(mode="json")


# --- fulfilment ---------------------------------------------------------------------------

FulfilmentStateParam = Literal["open", "accepted", "rejected", "shipped", "cancelled"]


class FulfilmentListParams(Schema):
    state: FulfilmentStateParam | None = Field(None, description="Only requests in this state")
    location: str | None = Field(None, max_length=40, description="Only this location's")
    after: int = Field(0, ge=0, description="Paging: the `next_after` of the previous page")
    limit: int = Field(50, ge=1, le=200)


class FulfilmentLineOut(Schema):
    id: int
    sku: str
    quantity: int
    shipped: bool
    shipment_id: int | None


class FulfilmentRequestOut(Schema):
    number: str
    location: str
    method: str
    state: str
    reference: str
    ship_to: dict[str, Any]
    note: str = Field(
        ..., description="The shopper's note to the shop (买家留言), for the packer and courier"
    )
    rejection_reason: str
    created_at: datetime
    updated_at: datetime
    lines: list[FulfilmentLineOut]


class FulfilmentPageOut(Schema):
    results: list[FulfilmentRequestOut]
    next_after: int | None


class RejectIn(StrictIn):
    reason: str = Field(..., min_length=1, max_length=500)


class ShipmentIn(StrictIn):
    request: str = Field(..., max_length=24, description="Fulfilment request number (FR-…)")
    carrier: str = Field(..., min_length=1, max_length=60)
    tracking_number: str = Field(..., min_length=1, max_length=80)
    shipped_at: JsonDateTime | None = None
    # Strict: "7" or true is not the JSON integer a line id is (true was line 1).
    lines: Annotated[list[StrictInt], Field(min_length=1)] | None = Field(
        None,
        description="Line ids to ship (at least one); omitted = every line not shipped yet",
    )


class ShipmentOut(Schema):
    id: int
    request: FulfilmentRequestOut
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: list[int]


def fulfilment_request_out(view: FulfilmentRequestView) -> dict[str, Any]:
    return FulfilmentRequestOut(
        number=view.number,
        location=view.location,
        method=view.method,
        state=view.state,
        reference=view.reference,
        ship_to=view.ship_to,
        note=view.note,
        rejection_reason=view.rejection_reason,
        created_at=view.created_at,
        updated_at=view.updated_at,
        lines=[
            FulfilmentLineOut(
                id=line.id,
                sku=line.sku,
                quantity=line.quantity,
                shipped=line.shipped,
                shipment_id=line.shipment_id,
            )
            for line in view.lines
        ],
    ).model_dump(mode="json")


def fulfilment_page_out(page: FulfilmentRequestPage) -> dict[str, Any]:
    return {
        "results": [fulfilment_request_out(view) for view in page.results],
        "next_after": page.next_after,
    }
