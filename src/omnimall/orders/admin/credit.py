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
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext

from omnimall.core.charts import svg_document
from omnimall.core.reports import PeriodForm
from omnimall.core.reports import csv_cell as _cell
from omnimall.orders.attribution import StoreCredit, store_credit_report
from omnimall.orders.models import CreditReason

from .scope import order_scope

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin
    from django.http import HttpRequest
    from django.urls import URLPattern

TEMPLATE = "orders/admin/credit_report.html"
DEFAULT_DAYS = 30
CHART_WIDTH, CHART_ROW, LABEL_WIDTH = 640, 22, 190


def _period(request: HttpRequest) -> tuple[PeriodForm, date, date]:
    today = timezone.localdate()
    default = {"start": today - timedelta(days=DEFAULT_DAYS - 1), "end": today}
    given = "start" in request.GET or "end" in request.GET
    form = PeriodForm(request.GET if given else None, initial=default)
    if given and form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, default["start"], default["end"]


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _name(store: StoreCredit) -> str:
    zh = (get_language() or "").startswith("zh")
    return (store.name_zh if zh else store.name_en) or store.code


def revenue_bars_svg(stores: Sequence[StoreCredit], *, title: str) -> SafeString:
    """Horizontal bars of paid revenue per store (drawn on the server, no script)."""
    if not stores:
        return format_html("<p>{}</p>", "—")
    inner = CHART_WIDTH - LABEL_WIDTH - 90
    top = max(max(s.revenue for s in stores), Decimal("0.01"))
    height = CHART_ROW * len(stores) + 8
    rows: list[str] = []
    for i, store in enumerate(stores):
        y = 4 + i * CHART_ROW
        width = inner * float(max(store.revenue, Decimal(0)) / top)
        rows.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{escape(_name(store))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="14" '
            f'fill="#417690"/>'
            f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{y + 14}" font-size="11">'
            f"{store.revenue} ({store.orders})</text>"
        )
    return svg_document(
        css_class="credit-chart", width=CHART_WIDTH, height=height, title=title, body="".join(rows)
    )


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
    form, start, end = _period(request)
    scope = order_scope(request)
    start_at, end_at = _bounds(start, end)
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
