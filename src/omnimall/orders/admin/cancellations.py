"""The "Cancellations" back-office report: why orders are cancelled.

For a period (default: the last 30 days, both ends included, in the shop's time zone): of
the orders placed in it, how many were cancelled (the cancellation rate) and for which
reason — the shopper's answer when they cancelled themselves, else how the shop did it (not
paid in time, not collected, by staff) — as bars and a table, each reason linked to those
orders in the order list. Store staff count their stores' orders (the list's scope).

Served like the store credit report: ``OrderAdmin.get_urls`` adds
``/admin/orders/order/cancellations/`` (``admin:orders_cancellations``).
"""

from __future__ import annotations

import csv
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext

from omnimall.core.charts import Bar, horizontal_bars_svg
from omnimall.core.reports import csv_cell, day_bounds, period_asked
from omnimall.orders.models import Order
from omnimall.orders.selectors.cancellations import (
    Cancellations,
    ReasonCount,
    count_cancellations,
)

from .scope import narrow_orders

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin
    from django.http import HttpRequest
    from django.urls import URLPattern

TEMPLATE = "orders/admin/cancellation_report.html"
DEFAULT_DAYS = 30


def _label(row: ReasonCount) -> str:
    return capfirst(row.label or gettext("not recorded (cancelled before reasons were kept)"))


def _list_url(row: ReasonCount) -> str:
    query = {"state__exact": "cancelled", "cancel_reason__exact": row.reason}
    return f"{reverse('admin:orders_order_changelist')}?{urlencode(query)}"


def _csv(report: Cancellations, start: date, end: date) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cancellations-{start}-{end}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the Chinese labels as UTF-8
    writer = csv.writer(response)
    writer.writerow(["reason", "label", "orders", "share_of_cancellations"])
    for row in report.reasons:
        writer.writerow([row.reason, csv_cell(_label(row)), row.orders, f"{row.share:.1f}"])
    writer.writerow(["TOTAL", "", report.cancelled, "100.0" if report.cancelled else "0.0"])
    writer.writerow(["PLACED", "", report.placed, f"{report.rate:.1f}"])
    return response


def cancellations_view(request: HttpRequest, *, model_admin: ModelAdmin[Any]) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    form, start, end = period_asked(request, default_days=DEFAULT_DAYS)
    start_at, end_at = day_bounds(start, end)
    report = count_cancellations(
        orders=narrow_orders(request, Order.objects.all()), start=start_at, end=end_at
    )
    if request.GET.get("export") == "csv":
        return _csv(report, start, end)
    bars = [
        Bar(_label(row), row.orders, f"{row.orders} ({row.share:.0f} %)") for row in report.reasons
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": gettext("Cancellations"),
        "form": form,
        "start": start,
        "end": end,
        "report": report,
        "rows": [
            {"label": _label(row), "row": row, "url": _list_url(row)} for row in report.reasons
        ],
        "csv_query": f"start={start}&end={end}&export=csv",
        "chart": horizontal_bars_svg(
            bars, title=gettext("Cancelled orders by reason"), css_class="report-chart"
        ),
    }
    return TemplateResponse(request, TEMPLATE, context)


def cancellation_report_urls(model_admin: ModelAdmin[Any]) -> list[URLPattern]:
    """The report's URL, for ``OrderAdmin.get_urls`` (``admin:orders_cancellations``)."""

    def view(request: HttpRequest) -> HttpResponse:
        return cancellations_view(request, model_admin=model_admin)

    return [
        path(
            "cancellations/",
            model_admin.admin_site.admin_view(view),
            name="orders_cancellations",
        )
    ]
