"""The "Store credit" back-office report: online orders credited to each store.

For a date range (default: the last 30 days, both ends inclusive, in the shop's time
zone): per store, the orders credited to it (orders in paid states), their paid revenue
(paid less refunded), the share of each credit reason, a bar chart of the revenue, and a
CSV export of the same table. Store staff see their own stores only.

There is no model to hang the page on (and no migration may add a proxy), so the Order
admin adds the page to its URLs: ``OrderAdmin.get_urls`` returns
``[*credit_report_urls(self), *super().get_urls()]``, which serves it at
``/admin/orders/order/store-credit/`` (URL name ``admin:orders_store_credit``).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext

from omnimall.core.charts import Bar, horizontal_bars_svg
from omnimall.core.reports import csv_cell as _cell
from omnimall.core.reports import day_bounds, period_asked
from omnimall.orders.attribution import StoreCredit, store_credit_report
from omnimall.orders.models import CreditReason

from .scope import order_scope

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin
    from django.http import HttpRequest
    from django.urls import URLPattern

TEMPLATE = "orders/admin/credit_report.html"
DEFAULT_DAYS = 30


def _name(store: StoreCredit) -> str:
    zh = (get_language() or "").startswith("zh")
    return (store.name_zh if zh else store.name_en) or store.code


def revenue_bars_svg(stores: Sequence[StoreCredit], *, title: str) -> SafeString:
    """Horizontal bars of paid revenue per store (drawn on the server, no script)."""
    bars = [Bar(_name(s), s.revenue, f"{s.revenue} ({s.orders})") for s in stores]
    return horizontal_bars_svg(bars, title=title, css_class="report-chart")


def _link(name: str, code: str) -> str:
    try:
        return reverse(name, args=[code])
    except NoReverseMatch:  # the referral links are not wired in this deployment
        return ""


def _table(stores: Sequence[StoreCredit]) -> list[dict[str, Any]]:
    return [
        {
            "store": store,
            "name": _name(store),
            "shares": [store.share(reason) for reason in CreditReason.values],
            "referral_url": _link("channels:referral", store.code),
            "qr_url": _link("channels:referral_qr", store.code),
        }
        for store in stores
    ]


def _csv(stores: Sequence[StoreCredit], start: date, end: date) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="store-credit-{start}-{end}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the Chinese names as UTF-8
    writer = csv.writer(response)
    reasons = list(CreditReason.values)
    writer.writerow(["store", "name_en", "name_zh", "orders", "paid_revenue", *reasons])
    for store in stores:
        writer.writerow(
            [
                _cell(store.code),
                _cell(store.name_en),
                _cell(store.name_zh),
                store.orders,
                store.revenue,
                *(store.by_reason.get(reason, 0) for reason in reasons),
            ]
        )
    writer.writerow(
        [
            "TOTAL",
            "",
            "",
            sum(s.orders for s in stores),
            sum((s.revenue for s in stores), Decimal("0.00")),
            *(sum(s.by_reason.get(reason, 0) for s in stores) for reason in reasons),
        ]
    )
    return response


def store_credit_view(request: HttpRequest, *, model_admin: ModelAdmin[Any]) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    form, start, end = period_asked(request, default_days=DEFAULT_DAYS)
    scope = order_scope(request)
    start_at, end_at = day_bounds(start, end)
    stores = store_credit_report(
        start=start_at,
        end=end_at,
        location_ids=None if scope.everywhere else sorted(scope.location_ids or ()),
    )
    if request.GET.get("export") == "csv":
        return _csv(stores, start, end)
    title = gettext("Store credit")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "form": form,
        "start": start,
        "end": end,
        "rows": _table(stores),
        "reasons": CreditReason.choices,
        "currency": settings.DEFAULT_CURRENCY,
        "total_orders": sum(s.orders for s in stores),
        "total_revenue": sum((s.revenue for s in stores), Decimal("0.00")),
        "chart": revenue_bars_svg(stores, title=gettext("Paid revenue per store")),
        "csv_query": f"start={start}&end={end}&export=csv",
    }
    return TemplateResponse(request, TEMPLATE, context)


def credit_report_urls(model_admin: ModelAdmin[Any]) -> list[URLPattern]:
    """The report's URL, for ``OrderAdmin.get_urls`` (``admin:orders_store_credit``)."""

    def view(request: HttpRequest) -> HttpResponse:
        return store_credit_view(request, model_admin=model_admin)

    return [
        path(
            "store-credit/",
            model_admin.admin_site.admin_view(view),
            name="orders_store_credit",
        )
    ]
