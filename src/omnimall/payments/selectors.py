"""Reads of the payments app that pages, the orders app and the back office share.

Cross-app readers get dataclasses, never querysets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q

from omnimall.payments import domain
from omnimall.payments.models import (
    EntryKind,
    NotificationLog,
    NotificationOutcome,
    Payment,
    PaymentEntry,
    PaymentState,
    Refund,
)


@dataclass(frozen=True, slots=True)
class PaymentView:
    id: int
    order_id: int
    gateway: str
    out_trade_no: str
    trade_no: str
    amount: Decimal
    currency: str
    state: str
    amount_captured: Decimal
    amount_refunded: Decimal
    created_at: datetime
    paid_at: datetime | None

    @property
    def refundable(self) -> Decimal:
        return self.amount_captured - self.amount_refunded if self.state == "paid" else Decimal(0)


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One entry of an order's payments ledger (captures positive, refunds negative)."""

    id: int
    payment_id: int
    out_trade_no: str
    gateway: str
    kind: str
    amount: Decimal
    currency: str
    document: str
    created_at: datetime
    actor_label: str


@dataclass(frozen=True, slots=True)
class RefundView:
    id: int
    payment_id: int
    refund_no: str
    amount: Decimal
    reason: str
    state: str
    failure: str
    created_at: datetime


def _view(p: Payment) -> PaymentView:
    return PaymentView(
        id=p.pk,
        order_id=p.order_id,
        gateway=p.gateway,
        out_trade_no=p.out_trade_no,
        trade_no=p.trade_no,
        amount=p.amount,
        currency=p.currency,
        state=p.state,
        amount_captured=p.amount_captured,
        amount_refunded=p.amount_refunded,
        created_at=p.created_at,
        paid_at=p.paid_at,
    )


def list_payments_of_order(order_id: int) -> list[PaymentView]:
    """Every payment attempt of the order, oldest first (one query)."""
    return [_view(p) for p in Payment.objects.filter(order_id=order_id).order_by("pk")]


def get_payment(payment_id: int) -> PaymentView | None:
    payment = Payment.objects.filter(pk=payment_id).first()
    return None if payment is None else _view(payment)


def get_payment_by_out_trade_no(out_trade_no: str) -> PaymentView | None:
    payment = Payment.objects.filter(out_trade_no=out_trade_no).first()
    return None if payment is None else _view(payment)


def list_pending_payment_ids(order_id: int) -> list[int]:
    """The order's payments still awaiting the shopper (to close or query)."""
    return list(
        Payment.objects.filter(order_id=order_id, state=PaymentState.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def ledger_of_order(order_id: int) -> list[LedgerLine]:
    """The order's payments ledger: captures and refunds in time order (one query)."""
    rows = (
        PaymentEntry.objects.filter(payment__order_id=order_id)
        .select_related("payment")
        .order_by("created_at", "pk")
    )
    return [
        LedgerLine(
            id=e.pk,
            payment_id=e.payment_id,
            out_trade_no=e.payment.out_trade_no,
            gateway=e.payment.gateway,
            kind=e.kind,
            amount=e.amount,
            currency=e.payment.currency,
            document=e.document,
            created_at=e.created_at,
            actor_label=e.actor_label,
        )
        for e in rows
    ]


def list_refunds_of_order(order_id: int) -> list[RefundView]:
    rows = Refund.objects.filter(payment__order_id=order_id).order_by("created_at", "pk")
    return [
        RefundView(
            id=r.pk,
            payment_id=r.payment_id,
            refund_no=r.refund_no,
            amount=r.amount,
            reason=r.reason,
            state=r.state,
            failure=r.failure,
            created_at=r.created_at,
        )
        for r in rows
    ]


def refundable_of_order(order_id: int) -> Decimal:
    """Captured minus refunded over the order's paid payments."""
    return sum((p.refundable for p in list_payments_of_order(order_id)), Decimal("0.00"))


def count_rejected_notifications(*, since: datetime | None = None) -> int:
    """How many notifications were rejected (the staff queue), optionally since a time."""
    query = Q(outcome=NotificationOutcome.REJECTED)
    if since is not None:
        query &= Q(received_at__gte=since)
    return NotificationLog.objects.filter(query).count()


# --- reconciliation ----------------------------------------------------------------------


def _ledger_row(entry: PaymentEntry) -> domain.LedgerRow:
    return domain.LedgerRow(
        kind=domain.PAYMENT if entry.kind == EntryKind.CAPTURE else domain.REFUND,
        document=entry.document,
        out_trade_no=entry.payment.out_trade_no,
        amount=entry.amount,
        currency=entry.payment.currency,
        created_at=entry.created_at,
    )


def ledger_rows_by_document(
    *, gateway: str, documents: set[tuple[str, str]]
) -> dict[tuple[str, str], domain.LedgerRow]:
    """The ledger entries of ``gateway`` that ``documents`` ((type, document)) name."""
    found: dict[tuple[str, str], domain.LedgerRow] = {}
    for kind, ledger_kind in (
        (domain.PAYMENT, EntryKind.CAPTURE),
        (domain.REFUND, EntryKind.REFUND),
    ):
        names = sorted(document for t, document in documents if t == kind)
        for start in range(0, len(names), 500):
            rows = PaymentEntry.objects.filter(
                payment__gateway=gateway, kind=ledger_kind, document__in=names[start : start + 500]
            ).select_related("payment")
            for entry in rows:
                row = _ledger_row(entry)
                found[(row.kind, row.document)] = row
    return found


def iter_ledger_rows(*, gateway: str, start: datetime, end: datetime) -> Iterator[domain.LedgerRow]:
    """Every ledger entry of ``gateway`` recorded in ``[start, end)``."""
    rows = (
        PaymentEntry.objects.filter(
            payment__gateway=gateway, created_at__gte=start, created_at__lt=end
        )
        .select_related("payment")
        .order_by("created_at", "pk")
    )
    for entry in rows.iterator(chunk_size=2000):
        yield _ledger_row(entry)
