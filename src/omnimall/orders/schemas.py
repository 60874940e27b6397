"""Schemas of the orders Store API, and the function that fills them from an OrderView."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import StrictInt, StrictStr

from omnimall.core.api.schemas import StrictIn

from . import domain
from .selectors import OrderView

# The order's guest token in a shopper's request body (its signed-in owner needs none).
GuestToken = Annotated[
    str | None,
    Field(max_length=64, description="The order's guest token (not needed by its signed-in owner)"),
]


class OrderLineOut(Schema):
    id: int = Field(..., description="The line's id: what a return request names")
    sku_id: int
    sku_code: str
    product_name: str
    variant: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    quantity_returned: int


class OrderPickupStoreOut(Schema):
    code: str
    name: str
    city: str
    address: str
    opening_hours: str


class OrderCollectorOut(Schema):
    name: str
    phone: str = Field(..., description="A mainland mobile: the code is texted to it")


class OrderShipmentOut(Schema):
    carrier: str = Field(..., description="As the warehouse or store reported it")
    carrier_name: str = Field(..., description="The carrier's name in the request's language")
    carrier_name_en: str
    carrier_name_zh: str
    tracking_number: str
    tracking_url: str = Field(
        ..., description="The carrier's page for this parcel; empty when there is none"
    )
    shipped_at: datetime
    expected_from: date | None = Field(
        None,
        description=(
            "While the order is on its way: the first day this parcel usually arrives "
            "(shipped date + the delivery zone's usual days); null when not said"
        ),
    )
    expected_to: date | None = Field(None, description="…and the last")


class TimelineOut(Schema):
    at: datetime
    state: str = Field(description="The state the order moved to; empty for another entry")
    label: str
    kind: str = Field(
        "state", description="state, refund (money back) or change (a new address or store)"
    )


class ReturnOut(Schema):
    number: str
    state: str
    created_at: datetime
    refund_amount: Decimal


class PaymentOut(Schema):
    gateway: str
    state: str
    amount: Decimal
    amount_captured: Decimal
    amount_refunded: Decimal
    paid_at: datetime | None


class OrderInvoiceOut(Schema):
    kind: str = Field(..., description="personal or company")
    title: str
    tax_id: str = Field(..., description="The company's taxpayer ID; empty for a person")
    email: str = Field(..., description="Where the electronic invoice is sent")
    state: str = Field(..., description="requested or issued")
    invoice_number: str
    pdf_url: str
    amount: Decimal | None = Field(None, description="What the issued invoice covers")
    requested_at: datetime
    issued_at: datetime | None


class OrderOut(Schema):
    number: str
    display_number: str
    state: str
    state_label: str
    placed_at: datetime
    paid_at: datetime | None
    reserved_until: datetime | None = Field(
        None, description="Until when the stock is held for payment; null once not unpaid"
    )
    currency: str
    subtotal: Decimal
    shipping: Decimal
    total: Decimal
    amount_paid: Decimal
    amount_refunded: Decimal
    points_used: int
    points_value: Decimal
    points_earned: int
    delivery_method: str
    ship_to: dict[str, str]
    note: str = Field(..., description="The shopper's note to the shop, given at checkout")
    cancel_reason: str = Field(
        ...,
        description=(
            "Once cancelled, why: the shopper's reason (GET /orders/cancel-reasons) or "
            "not_said, not_paid, not_collected, by_staff; empty otherwise"
        ),
    )
    pickup_store: OrderPickupStoreOut | None
    pickup_code: str
    credited_store: str
    lines: list[OrderLineOut]
    shipments: list[OrderShipmentOut]
    timeline: list[TimelineOut]
    returns: list[ReturnOut]
    payments: list[PaymentOut]
    can_cancel: bool
    can_change_address: bool = Field(
        ..., description="POST /orders/{number}/address may give it a new delivery address"
    )
    can_change_store: bool = Field(
        False,
        description="POST /orders/{number}/pickup-store may move the pick-up to another store",
    )
    store_refused: bool = Field(
        False,
        description="The pick-up store cannot prepare the order: choose another, or cancel",
    )
    collect_by: datetime | None = Field(
        None,
        description="A pick-up waiting at its store: collect it by then, or it is cancelled",
    )
    can_keep_longer: bool = Field(
        False,
        description="POST /orders/{number}/keep-longer keeps the pick-up a few days longer",
    )
    collector: OrderCollectorOut | None = Field(
        None, description="Someone the shopper sends to collect the pick-up (null: themselves)"
    )
    can_set_collector: bool = Field(
        False, description="POST /orders/{number}/collector may name someone else to collect it"
    )
    can_confirm_receipt: bool = Field(
        description="Everything has shipped: the shopper may confirm it arrived"
    )
    receipt_due_at: datetime | None = Field(
        description="When the shop confirms receipt itself if nobody does (shipped orders)"
    )
    can_request_return: bool
    invoice: OrderInvoiceOut | None = None
    can_request_invoice: bool = Field(
        False, description="An invoice may be asked for, or corrected before it is issued"
    )


class OrderSummaryOut(Schema):
    number: str
    display_number: str
    state: str
    state_label: str
    placed_at: datetime
    total: Decimal
    currency: str
    item_count: int
    delivery_method: str
    pay_by: datetime | None = Field(
        None, description="While unpaid: pay before this, or the order is cancelled"
    )


HistoryTab = Literal["all", "to_pay", "preparing", "to_receive", "after_sales"]


class OrderTabCountsOut(Schema):
    """How many of the shopper's orders each tab holds (the badges of 待付款, 待发货…)."""

    all: int
    to_pay: int = Field(..., description="Awaiting payment")
    preparing: int = Field(..., description="Paid, being prepared")
    to_receive: int = Field(..., description="On the way, or ready at the pick-up store")
    after_sales: int = Field(
        ..., description="Refunded or returned, or with a return request still open"
    )


class OrderListOut(Schema):
    results: list[OrderSummaryOut]
    page: int
    pages: int
    total: int = Field(..., description="The shopper's orders in this tab, all pages")
    show: HistoryTab
    counts: OrderTabCountsOut


class OrderListQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000, description="10 orders a page, newest first")
    show: HistoryTab = Field("all", description="Only the orders of one tab")
    q: str = Field(
        "",
        max_length=60,
        description="Only orders with a product named so (any case), or whose number holds it",
    )


ShopperCancelReason = Literal[
    "changed_mind", "wrong_items", "wrong_details", "cheaper", "too_slow", "payment_trouble",
    "other",
]  # fmt: skip


class CancelReasonOut(Schema):
    code: ShopperCancelReason
    label: str = Field(..., description="In the request's language")


class CancelIn(StrictIn):  # an unknown field is 422, as every Store API body
    token: GuestToken = None
    reason: str = Field("", max_length=500, description="In the shopper's words (optional)")
    why: ShopperCancelReason | None = Field(
        None, description="Why, as the order page asks it (optional; kept for the shop)"
    )


class OrderLookupIn(StrictIn):
    number: str = Field(..., min_length=1, max_length=24, description="The order number")
    contact: str = Field(
        ...,
        min_length=1,
        max_length=254,
        description="The email address or mobile number given at checkout",
    )


class OrderLookupOut(Schema):
    number: str
    token: str = Field(..., description="The order's guest token: open, pay, cancel, return")


class InvoiceDetailsIn(StrictIn):
    """An invoice (fapiao) asked for: at checkout, or later for the order."""

    kind: Literal["personal", "company"]
    title: str = Field(
        "", max_length=100, description="Company name; a personal invoice defaults to the name"
    )
    tax_id: str = Field("", max_length=40, description="Required for a company invoice")
    email: str = Field("", max_length=254, description="Defaults to the order's email")


class InvoiceRequestIn(InvoiceDetailsIn):
    token: GuestToken = None


class PayAgainIn(StrictIn):
    token: GuestToken = None


class ConfirmReceiptIn(StrictIn):
    token: GuestToken = None


class OrderReturnLineIn(StrictIn):
    line_id: StrictInt = Field(..., ge=1, le=2**31 - 1, description="An order line's id")
    quantity: StrictInt = Field(..., ge=1, le=999, description="Units to send back")


class OrderReturnIn(StrictIn):
    token: GuestToken = None
    reason: StrictStr = Field(..., min_length=1, max_length=500)
    lines: list[OrderReturnLineIn] = Field(..., min_length=1, max_length=50)


class PaymentStartedOut(Schema):
    number: str
    payment_url: str = Field(..., description="The gateway's page: open it to pay")
    amount_due: Decimal = Field(..., description="What the gateway is asked for")
    currency: str
    reserved_until: datetime | None = Field(
        ..., description="The stock is held until then; pay before it"
    )


class DeliveryIn(StrictIn):
    note: str = Field("", max_length=200, description="e.g. who signed for it")


class OrderStateOut(Schema):
    number: str
    state: str


def order_out(view: OrderView) -> dict[str, Any]:
    store = view.pickup_store
    return {
        "number": view.number,
        "display_number": view.display_number,
        "state": view.state,
        "state_label": view.state_label,
        "placed_at": view.placed_at,
        "paid_at": view.paid_at,
        "reserved_until": view.reserved_until,
        "currency": view.currency,
        "subtotal": view.subtotal,
        "shipping": view.shipping,
        "total": view.total,
        "amount_paid": view.amount_paid,
        "amount_refunded": view.amount_refunded,
        "points_used": view.points_used,
        "points_value": view.points_value,
        "points_earned": view.points_earned,
        "delivery_method": view.delivery_method,
        "ship_to": view.ship_to,
        "note": view.note,
        "cancel_reason": view.cancel_reason,
        "pickup_store": None
        if store is None
        else {
            "code": store.code,
            "name": store.name,
            "city": store.city,
            "address": store.address,
            "opening_hours": store.opening_hours,
        },
        "pickup_code": view.pickup_code,
        "credited_store": view.credited_store_name,
        "lines": [asdict(line) for line in view.lines],
        "shipments": [{**asdict(s), "carrier_name": s.carrier_name} for s in view.shipments],
        "timeline": [
            {"at": t.at, "state": t.state_to, "label": t.label, "kind": t.kind}
            for t in view.timeline
        ],
        "returns": [asdict(r) for r in view.returns],
        "payments": [asdict(p) for p in view.payments],
        "can_cancel": view.can_cancel,
        "can_change_address": view.can_change_address,
        "can_change_store": view.can_change_store,
        "store_refused": view.store_refused,
        "collect_by": view.collect_by,
        "can_keep_longer": view.can_keep_longer,
        "collector": domain.collector_of(view.collector_name, view.collector_phone),
        "can_set_collector": view.can_set_collector,
        "can_confirm_receipt": view.can_confirm_receipt,
        "receipt_due_at": view.receipt_due_at,
        "can_request_return": view.can_request_return,
        "invoice": None
        if view.invoice is None
        else {
            key: value
            for key, value in asdict(view.invoice).items()
            if key not in ("kind_label", "state_label")
        },
        "can_request_invoice": view.can_request_invoice,
    }
