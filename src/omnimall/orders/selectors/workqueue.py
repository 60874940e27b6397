"""What the back office's home page shows about orders: the work waiting and the last
days' online sales.

Both take the orders the staff member may see (``orders.admin.scope.narrow_orders``), so
store staff see their stores' queue and sales, everyone else the whole shop's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from omnimall.orders.models import (
    DeliveryMethod,
    InvoiceRequest,
    InvoiceState,
    Order,
    OrderState,
    ReturnRequest,
    ReturnState,
)

# Once paid, an order is no longer the shop's to wait on when it is in one of these.
_SETTLED = (
    OrderState.PENDING_PAYMENT,
    OrderState.DELIVERED,
    OrderState.PICKED_UP,
    OrderState.COMPLETED,
    OrderState.CANCELLED,
    OrderState.REFUNDED,
    OrderState.RETURNED,
)
PAID_WITHIN = timedelta(days=2)  # generous: a hold lasts minutes
TO_SHIP = (OrderState.PAID, OrderState.ALLOCATED, OrderState.PARTIALLY_SHIPPED)
TO_PUT_ASIDE = (OrderState.PAID, OrderState.ALLOCATED)


@dataclass(frozen=True, slots=True)
class Waiting:
    count: int
    oldest: datetime | None  # when the longest-waiting one started waiting


@dataclass(frozen=True, slots=True)
class OrderQueue:
    needs_attention: Waiting  # flagged by the shop itself (allocation failed, …)
    to_ship: Waiting  # delivery orders paid and not (wholly) shipped
    to_put_aside: Waiting  # pick-up orders paid, not yet put aside at the store
    awaiting_pickup: Waiting  # put aside, the shopper has not come yet
    returns_to_approve: Waiting
    returns_to_receive: Waiting  # approved, the goods not yet back
    invoices_to_issue: Waiting


@dataclass(frozen=True, slots=True)
class DaySales:
    day: date
    delivery_orders: int
    delivery_revenue: Decimal
    pickup_orders: int
    pickup_revenue: Decimal

    @property
    def orders(self) -> int:
        return self.delivery_orders + self.pickup_orders

    @property
    def revenue(self) -> Decimal:
        return self.delivery_revenue + self.pickup_revenue


def _waiting(row: dict[str, Any], name: str) -> Waiting:
    return Waiting(count=row[f"{name}_count"] or 0, oldest=row[f"{name}_oldest"])


def _counted(name: str, when: str, condition: Q) -> dict[str, Any]:
    return {
        f"{name}_count": Count("pk", filter=condition),
        f"{name}_oldest": Min(when, filter=condition),
    }


def order_work_queue(orders: QuerySet[Order]) -> OrderQueue:
    """Three statements: the orders, their returns, their invoice requests."""
    ship = Q(delivery_method=DeliveryMethod.SHIP)
    pickup = Q(delivery_method=DeliveryMethod.PICKUP)
    open_orders = orders.exclude(state__in=_SETTLED)
    row = open_orders.aggregate(
        **_counted("attention", "paid_at", Q(needs_attention=True)),
        **_counted("ship", "paid_at", ship & Q(state__in=TO_SHIP)),
        **_counted("aside", "paid_at", pickup & Q(state__in=TO_PUT_ASIDE)),
        **_counted("pickup", "ready_at", pickup & Q(state=OrderState.READY_FOR_PICKUP)),
    )
    returns = ReturnRequest.objects.filter(order__in=orders.values("pk")).aggregate(
        **_counted("approve", "created_at", Q(state=ReturnState.REQUESTED)),
        **_counted("receive", "updated_at", Q(state=ReturnState.APPROVED)),
    )
    invoices = InvoiceRequest.objects.filter(
        order__in=orders.values("pk"), state=InvoiceState.REQUESTED
    ).aggregate(**_counted("issue", "requested_at", Q()))
    return OrderQueue(
        needs_attention=_waiting(row, "attention"),
        to_ship=_waiting(row, "ship"),
        to_put_aside=_waiting(row, "aside"),
        awaiting_pickup=_waiting(row, "pickup"),
        returns_to_approve=_waiting(returns, "approve"),
        returns_to_receive=_waiting(returns, "receive"),
        invoices_to_issue=_waiting(invoices, "issue"),
    )


def daily_sales(
    orders: QuerySet[Order], *, first: date, last: date, currency: str
) -> list[DaySales]:
    """Orders paid each day from ``first`` to ``last`` (shop time, both inclusive) and
    their revenue (paid less refunded), by delivery method; days without sales included.

    Orders in another currency are left out rather than added to these amounts."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    rows = (
        orders.filter(
            # An order is paid within its stock hold (minutes) or not at all (money that
            # comes after the order was cancelled is refunded, the order stays cancelled),
            # so the indexed ``placed_at`` can bound the rows ``paid_at`` is read from.
            placed_at__gte=start - PAID_WITHIN,
            placed_at__lt=end,
            paid_at__gte=start,
            paid_at__lt=end,
            currency=currency,
        )
        .annotate(day=TruncDate("paid_at", tzinfo=zone))
        .values("day", "delivery_method")
        .annotate(orders=Count("pk"), revenue=Sum(F("amount_paid") - F("amount_refunded")))
        .order_by()
    )
    found: dict[date, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    for row in rows:
        found[row["day"]][row["delivery_method"]] = (row["orders"], row["revenue"] or Decimal(0))
    zero = (0, Decimal("0.00"))
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        delivery = found[day].get(DeliveryMethod.SHIP, zero)
        pickup = found[day].get(DeliveryMethod.PICKUP, zero)
        days.append(
            DaySales(
                day=day,
                delivery_orders=delivery[0],
                delivery_revenue=Decimal(delivery[1]),
                pickup_orders=pickup[0],
                pickup_revenue=Decimal(pickup[1]),
            )
        )
    return days
