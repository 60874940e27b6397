"""Order reads for the shopper's pages, the Store API and the pick-up desk.

They return frozen dataclasses. Order numbers are looked up ignoring spaces (people read
them out as ``261127 482193``). Another shopper's order looks exactly like a missing one
(``OrderNotFoundError``, 404).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils.translation import gettext

from omnimall.core import clock
from omnimall.core.numbers import display_number
from omnimall.inventory.models import FulfilmentState
from omnimall.inventory.selectors.allocation import city_label
from omnimall.inventory.selectors.carriers import CarrierLabel, carrier_index, label_for
from omnimall.orders import domain
from omnimall.orders.delivery_time import delivery_days, expected_window
from omnimall.orders.errors import OrderNotFoundError
from omnimall.orders.models import (
    SHOPPER_CANCEL_REASONS,
    CancelReason,
    CreditReason,
    DeliveryMethod,
    InvoiceKind,
    InvoiceRequest,
    InvoiceState,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderState,
    ReturnRequest,
    ReturnState,
)
from omnimall.orders.texts import event_text
from omnimall.payments import selectors as payment_selectors

PAGE_SIZE = 10
# The code is shown once the order is paid and until it is handed over.
PICKUP_CODE_VISIBLE = frozenset({domain.PAID, domain.ALLOCATED, domain.READY_FOR_PICKUP})


@dataclass(frozen=True, slots=True)
class OrderLineView:
    id: int
    sku_id: int
    sku_code: str
    product_name: str
    variant: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    quantity_returned: int


@dataclass(frozen=True, slots=True)
class StoreView:
    id: int
    code: str
    name: str
    name_en: str
    name_zh: str
    city: str
    address: str
    opening_hours: str

    @property
    def city_name(self) -> str:
        return city_label(self.city)


@dataclass(frozen=True, slots=True)
class ShipmentView:
    carrier: str  # as the warehouse or store reported it
    tracking_number: str
    shipped_at: datetime
    carrier_name_en: str
    carrier_name_zh: str
    tracking_url: str  # the carrier's page for this parcel; empty when it has none
    # While on its way: the days it usually arrives between (the zone's delivery time).
    expected_from: date | None = None
    expected_to: date | None = None

    @property
    def carrier_name(self) -> str:
        return CarrierLabel(self.carrier_name_en, self.carrier_name_zh, self.tracking_url).name


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    state_from: str
    state_to: str
    label: str
    message: str
    # "state" (a change of state), "refund" (money back) or "change" (a new delivery
    # address or pick-up store): what the shopper is shown of the order's history.
    kind: str = "state"


@dataclass(frozen=True, slots=True)
class ReturnSummary:
    number: str
    state: str
    label: str
    created_at: datetime
    refund_amount: Decimal


@dataclass(frozen=True, slots=True)
class PaymentSummary:
    gateway: str
    out_trade_no: str
    state: str
    amount: Decimal
    amount_captured: Decimal
    amount_refunded: Decimal
    paid_at: datetime | None


@dataclass(frozen=True, slots=True)
class InvoiceView:
    kind: str
    kind_label: str
    title: str
    tax_id: str
    email: str
    state: str
    state_label: str
    invoice_number: str
    pdf_url: str
    amount: Decimal | None
    requested_at: datetime
    issued_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderView:
    id: int
    number: str
    display_number: str
    state: str
    state_label: str
    placed_at: datetime
    paid_at: datetime | None
    ready_at: datetime | None
    closed_at: datetime | None
    reserved_until: datetime | None
    lines: tuple[OrderLineView, ...]
    currency: str
    subtotal: Decimal
    shipping: Decimal
    total: Decimal
    amount_paid: Decimal
    amount_refunded: Decimal
    points_used: int
    points_value: Decimal  # what the points paid of the total
    points_earned: int
    delivery_method: str
    method_label: str
    contact_name: str
    email: str
    phone: str
    ship_to: dict[str, str]
    note: str  # the shopper's note to the shop, given at checkout
    cancel_reason: str  # a ``CancelReason`` once cancelled; "" otherwise
    pickup_store: StoreView | None
    pickup_code: str  # "" unless paid and not yet handed over
    credited_store_name: str
    credit_reason: str
    shipments: tuple[ShipmentView, ...]
    timeline: tuple[TimelineEntry, ...]
    can_cancel: bool
    can_request_return: bool
    can_change_address: bool
    can_change_store: bool  # a pick-up its store has not put aside yet
    store_refused: bool  # its pick-up store refused it, and nothing is held for it
    collect_by: datetime | None  # a pick-up waiting at its store: cancelled if not collected
    collector_name: str  # someone the shopper sends to collect it; "" when they come
    collector_phone: str
    can_set_collector: bool  # a pick-up not yet handed over
    can_keep_longer: bool  # the shopper may keep it PICKUP_EXTENSION_DAYS longer, once
    returns: tuple[ReturnSummary, ...]
    payments: tuple[PaymentSummary, ...]
    invoice: InvoiceView | None = None
    can_request_invoice: bool = False  # a new request, or a correction before it is issued
    channel_code: str = "online"  # the sales channel it was bought in (stock is per channel)

    @property
    def is_paid(self) -> bool:
        return self.state in domain.PAID_STATES

    @property
    def cancel_reason_label(self) -> str:
        """The reason the shopper gave for cancelling, as they chose it; "" for any other."""
        if self.cancel_reason not in SHOPPER_CANCEL_REASONS:
            return ""
        return str(CancelReason(self.cancel_reason).label)

    @property
    def can_confirm_receipt(self) -> bool:
        """Everything shipped, not yet reported delivered: the shopper may say it came."""
        return self.state == domain.SHIPPED

    @property
    def receipt_due_at(self) -> datetime | None:
        """When the shop confirms receipt by itself (``receipt.confirm_overdue_deliveries``)."""
        days = settings.DELIVERY_CONFIRM_DAYS
        if not self.can_confirm_receipt or days <= 0:
            return None
        shipped = [entry.at for entry in self.timeline if entry.state_to == domain.SHIPPED]
        return shipped[-1] + timedelta(days=days) if shipped else None

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def amount_due(self) -> Decimal:
        """What is (or was) paid in money: the total less what points paid."""
        return self.total - self.points_value


@dataclass(frozen=True, slots=True)
class OrderSummary:
    number: str
    display_number: str
    state: str
    state_label: str
    placed_at: datetime
    total: Decimal
    currency: str
    item_count: int
    delivery_method: str
    pay_by: datetime | None = None  # while unpaid: when its hold ends and it is cancelled


@dataclass(frozen=True, slots=True)
class OrderPage:
    results: tuple[OrderSummary, ...]
    page: int
    pages: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def clean_number(number: str) -> str:
    """``"261127 482193"`` → ``"261127482193"``; anything not a plausible number → ``""``."""
    cleaned = "".join(str(number or "").split())
    return cleaned if cleaned.isdigit() and len(cleaned) <= 20 else ""


def state_label(state: str) -> str:
    return str(OrderState(state).label) if state in OrderState.values else state


def order_line_view(line: OrderLine) -> OrderLineView:
    return OrderLineView(
        id=line.pk,
        sku_id=line.sku_id,
        sku_code=line.sku_code,
        product_name=line.product_name,
        variant=line.variant,
        unit_price=line.unit_price,
        quantity=line.quantity,
        line_total=line.line_total,
        quantity_returned=line.quantity_returned,
    )


def _store(location: Any) -> StoreView | None:
    if location is None:
        return None
    from django.utils.translation import get_language

    zh = (get_language() or "").startswith("zh")
    return StoreView(
        id=location.pk,
        code=location.code,
        name=location.name_zh if zh else location.name_en,
        name_en=location.name_en,
        name_zh=location.name_zh,
        city=location.city,
        address=location.address,
        opening_hours=location.opening_hours,
    )


def _store_name(location: Any) -> str:
    store = _store(location)
    return store.name if store is not None else ""


def _orders() -> Any:
    shipped = (
        OrderAllocation.objects.filter(fulfilment_line__shipment__isnull=False)
        .select_related("fulfilment_line__shipment")
        .order_by("pk")
    )
    return Order.objects.select_related(
        "pickup_store", "credited_store", "invoice"
    ).prefetch_related(
        "lines",
        Prefetch(
            "events",
            queryset=OrderEvent.objects.filter(
                Q(kind__in=(OrderEventKind.STATE, OrderEventKind.REFUND))
                # A new address or pick-up store (``readdress``, ``pickup_store``).
                | Q(kind=OrderEventKind.FULFILMENT, data__has_key="after")
            ).order_by("created_at", "pk"),
            to_attr="shopper_events",
        ),
        Prefetch("lines__allocations", queryset=shipped, to_attr="shipped_allocations"),
        Prefetch("returns", queryset=ReturnRequest.objects.order_by("created_at")),
    )


def _shipments(order: Order) -> tuple[ShipmentView, ...]:
    seen: dict[int, Any] = {}
    for line in order.lines.all():
        for row in getattr(line, "shipped_allocations", []):
            shipment = row.fulfilment_line.shipment
            seen.setdefault(shipment.pk, shipment)
    if not seen:
        return ()
    carriers = carrier_index()  # one query, only for an order that has shipped
    # Said only while the parcels are on their way.
    days = delivery_days(order) if order.state in domain.ON_ITS_WAY else None
    views = []
    for shipment in seen.values():
        label = label_for(shipment.carrier, shipment.tracking_number, carriers)
        expected = expected_window(shipment.shipped_at, days)
        views.append(
            ShipmentView(
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                shipped_at=shipment.shipped_at,
                carrier_name_en=label.name_en,
                carrier_name_zh=label.name_zh,
                tracking_url=label.tracking_url,
                expected_from=expected[0] if expected else None,
                expected_to=expected[1] if expected else None,
            )
        )
    return tuple(sorted(views, key=lambda s: s.shipped_at))


def _handed_over_at(events: Iterable[OrderEvent]) -> datetime | None:
    for event in events:
        if event.state_to in (domain.DELIVERED, domain.PICKED_UP):
            return event.created_at
    return None


def _can_return(order: Order, events: list[OrderEvent]) -> bool:
    if order.state not in domain.RETURNABLE:
        return False
    if any(r.state in (ReturnState.REQUESTED, ReturnState.APPROVED) for r in order.returns.all()):
        return False
    if all(line.quantity_returned >= line.quantity for line in order.lines.all()):
        return False
    handed = _handed_over_at(events)
    return handed is None or clock.now() <= handed + timedelta(days=settings.RETURN_WINDOW_DAYS)


def _taken_on(order: Order) -> bool:
    """A paid order a warehouse or store has taken on: the shopper may no longer cancel it
    or change its address (one query, for paid orders not yet shipped only). The services
    check again under lock."""
    return (
        order.state in domain.SHOPPER_CANCELLABLE_PAID
        and OrderAllocation.objects.filter(
            line__order_id=order.pk,
            is_live=True,
            fulfilment_line__request__state=FulfilmentState.ACCEPTED,
        ).exists()
    )


def _store_refused(order: Order) -> bool:
    """A pick-up its store refused, with nothing held for it any more: the shopper is asked
    to choose another store (one query, for such a flagged order only)."""
    return (
        order.delivery_method == DeliveryMethod.PICKUP
        and order.state == domain.ALLOCATED
        and order.needs_attention
        and not OrderAllocation.objects.filter(line__order_id=order.pk, is_live=True).exists()
    )


def _timeline_entry(event: OrderEvent) -> TimelineEntry:
    """One line of the shopper's history: a state, a refund, or a new address or store."""
    entry = TimelineEntry(
        at=event.created_at,
        state_from=event.state_from,
        state_to=event.state_to,
        label=state_label(event.state_to),
        message=event.message if event.message in ("placed",) else "",
    )
    if event.kind == OrderEventKind.REFUND:
        amount = str((event.data or {}).get("amount", ""))
        label = gettext("refunded ¥%(amount)s") % {"amount": amount}
        return replace(entry, label=label, kind="refund")
    if event.kind == OrderEventKind.FULFILMENT:
        return replace(entry, label=event_text(event), kind="change")
    return entry


def _view(order: Order) -> OrderView:
    shown: list[OrderEvent] = getattr(order, "shopper_events", [])
    events = [e for e in shown if e.kind == OrderEventKind.STATE]
    taken_on = _taken_on(order)
    payments = payment_selectors.list_payments_of_order(order.pk)
    invoice = _invoice_view(order)
    return OrderView(
        id=order.pk,
        number=order.number,
        display_number=display_number(order.number),
        state=order.state,
        state_label=state_label(order.state),
        placed_at=order.placed_at,
        paid_at=order.paid_at,
        ready_at=order.ready_at,
        closed_at=order.closed_at,
        # The checkout's hold means something only while the order waits for its payment.
        reserved_until=(order.reserved_until if order.state == domain.PENDING_PAYMENT else None),
        lines=tuple(order_line_view(line) for line in order.lines.all()),
        currency=order.currency,
        subtotal=order.subtotal,
        shipping=order.shipping,
        total=order.total,
        amount_paid=order.amount_paid,
        amount_refunded=order.amount_refunded,
        points_used=order.points_used,
        points_value=order.points_value,
        points_earned=order.points_earned,
        delivery_method=order.delivery_method,
        method_label=str(DeliveryMethod(order.delivery_method).label),
        contact_name=order.contact_name,
        email=order.email,
        phone=order.phone,
        ship_to={str(k): str(v) for k, v in (order.ship_to or {}).items()},
        note=order.shopper_note,
        cancel_reason=order.cancel_reason,
        pickup_store=_store(order.pickup_store),
        pickup_code=order.pickup_code if order.state in PICKUP_CODE_VISIBLE else "",
        credited_store_name=_store_name(order.credited_store),
        credit_reason=(
            str(CreditReason(order.credit_reason).label)
            if order.credit_reason in CreditReason.values
            else ""
        ),
        shipments=_shipments(order),
        timeline=tuple(_timeline_entry(e) for e in shown),
        can_cancel=domain.shopper_may_cancel(
            order.state, taken_on=taken_on, paid_allowed=settings.SHOPPER_CANCEL_PAID
        ),
        can_change_address=(
            domain.may_readdress(order.delivery_method, order.state) and not taken_on
        ),
        can_change_store=(
            domain.may_change_store(order.delivery_method, order.state) and not taken_on
        ),
        store_refused=_store_refused(order),
        collect_by=order.collect_by if order.state == domain.READY_FOR_PICKUP else None,
        collector_name=order.collector_name,
        collector_phone=order.collector_phone,
        can_set_collector=domain.may_set_collector(order.delivery_method, order.state),
        can_keep_longer=domain.shopper_may_keep_longer(
            order.state,
            collect_by=order.collect_by,
            extended=order.pickup_extended_at is not None,
            now=clock.now(),
            days=settings.PICKUP_EXTENSION_DAYS,
        ),
        can_request_return=_can_return(order, events),
        returns=tuple(
            ReturnSummary(
                number=r.number,
                state=r.state,
                label=str(ReturnState(r.state).label),
                created_at=r.created_at,
                refund_amount=r.refund_amount,
            )
            for r in order.returns.all()
        ),
        payments=tuple(
            PaymentSummary(
                gateway=p.gateway,
                out_trade_no=p.out_trade_no,
                state=p.state,
                amount=p.amount,
                amount_captured=p.amount_captured,
                amount_refunded=p.amount_refunded,
                paid_at=p.paid_at,
            )
            for p in payments
        ),
        invoice=invoice,
        channel_code=order.channel_code,
        can_request_invoice=domain.may_have_invoice(order.state)
        and (invoice is None or invoice.state == InvoiceState.REQUESTED),
    )


def _invoice_view(order: Order) -> InvoiceView | None:
    try:
        invoice = order.invoice
    except InvoiceRequest.DoesNotExist:
        return None
    return InvoiceView(
        kind=invoice.kind,
        kind_label=str(InvoiceKind(invoice.kind).label),
        title=invoice.title,
        tax_id=invoice.tax_id,
        email=invoice.email,
        state=invoice.state,
        state_label=str(InvoiceState(invoice.state).label),
        invoice_number=invoice.invoice_number,
        pdf_url=invoice.pdf_url,
        amount=invoice.amount,
        requested_at=invoice.requested_at,
        issued_at=invoice.issued_at,
    )


def _may_view(order: Order, *, user: Any, guest_token: str | None) -> bool:
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    if authenticated and order.user_id is not None and order.user_id == user.pk:
        return True
    if guest_token and isinstance(guest_token, str):
        return secrets.compare_digest(guest_token.encode(), order.guest_token.encode())
    return False


def get_order_for_viewer(*, number: str, user: Any, guest_token: str | None) -> OrderView:
    """The order if ``user`` owns it or ``guest_token`` is its token; else 404."""
    cleaned = clean_number(number)
    order = _orders().filter(number=cleaned).first() if cleaned else None
    if order is None or not _may_view(order, user=user, guest_token=guest_token):
        raise OrderNotFoundError(number=cleaned or str(number)[:24])
    return _view(order)


def get_order_by_id(order_id: int) -> OrderView:
    """For staff pages and services' replies (no visibility check)."""
    order = _orders().filter(pk=order_id).first()
    if order is None:
        raise OrderNotFoundError(order_id=order_id)
    return _view(order)


def order_id_for_number(number: str) -> int | None:
    """The id of the order with ``number`` (spaces ignored), for integrations and staff."""
    cleaned = clean_number(number)
    if not cleaned:
        return None
    return Order.objects.filter(number=cleaned).values_list("pk", flat=True).first()


def require_order_id(number: str) -> int:
    """``order_id_for_number``, or 404 ``unknown_order`` (integration calls by number)."""
    order_id = order_id_for_number(number)
    if order_id is None:
        raise OrderNotFoundError(number=str(number)[:24])
    return order_id


def list_shipment_locations(*, order_id: int) -> list[tuple[str, str]]:
    """``(code, kind)`` of every stock location that shipped some of the order, by code."""
    rows = (
        OrderAllocation.objects.filter(
            line__order_id=order_id, fulfilment_line__shipment__isnull=False
        )
        .values_list(
            "fulfilment_line__request__location__code", "fulfilment_line__request__location__kind"
        )
        .distinct()
    )
    return sorted(rows)
