"""The back office's home page: the work waiting, and the last two weeks' online sales.

Each line of "Waiting for you" links to the list that holds the work and shows only to
staff who may view that list; store staff count their stores' orders, returns, invoices
and fulfilment requests (the same scope as those lists). The sales chart shows orders
paid per day and their revenue (paid less refunded), delivery and pick-up stacked, in
the shop's currency. Rendered by ``{% back_office_dashboard %}`` (orders.templatetags)
above the app list; ``admin.site.index_template`` is set below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from omnimall.core import outbox
from omnimall.core.charts import Column, stacked_columns_svg
from omnimall.core.models import OutboxState
from omnimall.inventory.admin.scope import scope_of
from omnimall.inventory.models import FulfilmentState
from omnimall.inventory.selectors.fulfilment import fulfilment_backlog
from omnimall.orders.models import DeliveryMethod, Order, OrderState, ReturnState
from omnimall.orders.selectors.workqueue import (
    TO_PUT_ASIDE,
    TO_SHIP,
    DaySales,
    Waiting,
    daily_sales,
    order_work_queue,
)
from omnimall.payments import selectors as payment_selectors

from .scope import narrow_orders

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.utils.functional import Promise

admin.site.index_template = "orders/admin/index.html"
admin.site.index_title = _("Overview")

SALES_DAYS = 14
SHIP, PICKUP = DeliveryMethod.SHIP, DeliveryMethod.PICKUP
NOTIFICATIONS_WITHIN = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class QueueLine:
    label: str
    count: int
    url: str
    since: str  # "3 hours" (the oldest waits that long) or ""
    alarm: bool  # something went wrong (not just work to do)


def _since(oldest: datetime | None, now: datetime) -> str:
    return timesince(oldest, now, depth=1) if oldest else ""


def _line(
    label: Promise, waiting: Waiting, url: str, now: datetime, *, alarm: bool = False
) -> QueueLine:
    return QueueLine(
        label=str(label),
        count=waiting.count,
        url=url,
        since=_since(waiting.oldest, now),
        alarm=alarm and waiting.count > 0,
    )


def _list_url(name: str, **query: str) -> str:
    url = reverse(f"admin:{name}_changelist")
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def _joined(*states: str) -> str:
    return ",".join(states)


def _orders_in(method: str, states: tuple[str, ...]) -> str:
    return _list_url("orders_order", delivery_method__exact=method, state__in=_joined(*states))


def _order_lines(request: HttpRequest, visible: QuerySet[Order], now: datetime) -> list[QueueLine]:
    user = request.user
    lines: list[QueueLine] = []
    queue = order_work_queue(visible)
    orders = "orders_order"
    lines += [
        _line(
            _("Orders needing attention"),
            queue.needs_attention,
            _list_url(orders, needs_attention__exact="1"),
            now,
            alarm=True,
        ),
        _line(_("Delivery orders to ship"), queue.to_ship, _orders_in(SHIP, TO_SHIP), now),
        _line(
            _("Pick-up orders to put aside"),
            queue.to_put_aside,
            _orders_in(PICKUP, TO_PUT_ASIDE),
            now,
        ),
        _line(
            _("Waiting to be picked up"),
            queue.awaiting_pickup,
            _list_url(orders, state__exact=OrderState.READY_FOR_PICKUP),
            now,
        ),
    ]
    if user.has_perm("orders.view_returnrequest"):
        returns = "orders_returnrequest"
        lines += [
            _line(
                _("Returns to approve"),
                queue.returns_to_approve,
                _list_url(returns, state__exact=ReturnState.REQUESTED),
                now,
            ),
            _line(
                _("Returns on their way back"),
                queue.returns_to_receive,
                _list_url(returns, state__exact=ReturnState.APPROVED),
                now,
            ),
        ]
    if user.has_perm("orders.view_invoicerequest"):
        lines.append(
            _line(
                _("Invoices to issue"),
                queue.invoices_to_issue,
                _list_url("orders_invoicerequest"),  # lists requested ones by default
                now,
            )
        )
    return lines


def _other_lines(request: HttpRequest, now: datetime) -> list[QueueLine]:
    user = request.user
    lines: list[QueueLine] = []
    if user.has_perm("inventory.view_fulfilmentrequest"):
        backlog = fulfilment_backlog(location_ids=scope_of(request).location_ids)
        lines.append(
            _line(
                _("Fulfilment requests not yet shipped"),
                Waiting(count=backlog.count, oldest=backlog.oldest),
                _list_url(
                    "inventory_fulfilmentrequest",
                    state__in=_joined(FulfilmentState.OPEN, FulfilmentState.ACCEPTED),
                ),
                now,
            )
        )
    if user.has_perm("core.view_outboxmessage"):
        dead = outbox.outbox_counts().dead
        lines.append(
            _line(
                _("Messages that could not be delivered"),
                Waiting(count=dead, oldest=None),
                _list_url("core_outboxmessage", state__exact=OutboxState.DEAD),
                now,
                alarm=True,
            )
        )
    if user.has_perm("payments.view_notificationlog"):
        rejected = payment_selectors.count_rejected_notifications(since=now - NOTIFICATIONS_WITHIN)
        lines.append(
            _line(
                _("Payment notifications refused in the last 24 hours"),
                Waiting(count=rejected, oldest=None),
                _list_url("payments_notificationlog"),  # lists refused ones by default
                now,
                alarm=True,
            )
        )
    return lines


def _money(amount: Decimal) -> str:
    return number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)


def _column(day: DaySales) -> Column:
    hover = ngettext(
        "%(day)s: %(orders)s order, %(revenue)s (delivery %(delivery)s, pick-up %(pickup)s)",
        "%(day)s: %(orders)s orders, %(revenue)s (delivery %(delivery)s, pick-up %(pickup)s)",
        day.orders,
    ) % {
        "day": date_format(day.day, "SHORT_DATE_FORMAT"),
        "orders": day.orders,
        "revenue": _money(day.revenue),
        "delivery": day.delivery_orders,
        "pickup": day.pickup_orders,
    }
    return Column(
        label=day.day.strftime("%m-%d"),
        parts=(day.delivery_revenue, day.pickup_revenue),
        hover=hover,
    )


def _sales(visible: QuerySet[Order]) -> dict[str, Any]:
    today = timezone.localdate()
    currency = settings.DEFAULT_CURRENCY
    days = daily_sales(
        visible,
        first=today - timedelta(days=SALES_DAYS - 1),
        last=today,
        currency=currency,
    )
    chart = stacked_columns_svg(
        [_column(day) for day in days],
        legend=[gettext("Delivery"), gettext("Pick-up in store")],
        title=gettext("Online sales per day, the last %(days)s days") % {"days": SALES_DAYS},
    )
    return {
        "chart": chart,
        "currency": currency,
        "today_orders": days[-1].orders,
        "today_revenue": _money(days[-1].revenue),
        "period_orders": sum(day.orders for day in days),
        "period_revenue": _money(sum((day.revenue for day in days), Decimal(0))),
        "days": SALES_DAYS,
    }


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    lines: list[QueueLine] = []
    sales = None
    if request.user.has_perm("orders.view_order"):
        visible = narrow_orders(request, Order.objects.all())  # scoped once for both
        lines = _order_lines(request, visible, now)
        sales = _sales(visible)
    lines += _other_lines(request, now)
    return {
        "queue": lines,
        "queue_empty": not any(line.count for line in lines),
        "sales": sales,
    }
