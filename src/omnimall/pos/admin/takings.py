"""The "Takings by payment method" back-office report: what the stores' tills took.

For a period (default: the last 7 days, both ends included; at most a month) and per store
and business day (the shop's time zone): the receipts, the amount taken by each payment
method, the till returns and what they refunded, and taken less refunded; a column chart
of each day's takings by method; a CSV export of the same table with a TOTAL row. For the
store manager closing the day and finance reconciling the bank's and Alipay's and WeChat
Pay's settlements.

Served on the Till receipts admin's URLs (``ReceiptAdmin.get_urls`` adds
``takings_urls(self)``): ``/admin/pos/receipt/takings/``, URL name ``admin:pos_takings``,
linked from the receipts list. Needs ``pos.view_receipt``; store staff see their own
stores only (``scope.receipt_scope``, the receipts list's rule).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.charts import Column, stacked_columns_svg
from omnimall.core.reports import PeriodForm, csv_cell
from omnimall.inventory.selectors.stores import StoreName, list_stores
from omnimall.pos.domain import PAYMENT_METHODS, POINTS_METHOD
from omnimall.pos.models import PaymentMethod
from omnimall.pos.selectors.takings import (
    MAX_DAYS,
    UNKNOWN,
    StoreDay,
    Takings,
    Tally,
    takings_by_method,
)

from .scope import receipt_scope

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin
    from django.http import HttpRequest
    from django.urls import URLPattern

TEMPLATE = "pos/admin/takings.html"
DEFAULT_DAYS = 7
# The chart has four colours (``core.charts``): the three methods that took most in the
# period get one each, the rest share the fourth. The table and a column's tooltip give
# every method.
CHART_PARTS = 4
# The ways a refund is paid out, as the CSV's refund columns: every method but points
# (those come back as points), then the refunds whose way is not known.
REFUND_WAYS = (*(m for m in PAYMENT_METHODS if m != POINTS_METHOD), UNKNOWN)


class TakingsForm(PeriodForm):
    max_days = MAX_DAYS - 1  # To − From
    store = forms.ChoiceField(label=_("Store"), required=False)

    def __init__(self, *args: Any, stores: Sequence[StoreName], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the stores the staff member sees: another store's code is "not one of the
        # available choices", a form error, never that store's figures.
        cast("forms.ChoiceField", self.fields["store"]).choices = [
            ("", gettext("All stores")),
            *((store.code, f"{store.code} {store.name}") for store in stores),
        ]

    def too_long_message(self) -> str:
        return gettext("Choose a range of at most %(days)s days.") % {"days": MAX_DAYS}


def _form(request: HttpRequest, stores: Sequence[StoreName]) -> TakingsForm:
    """The filter, always bound: what the request leaves out is the default (the last
    ``DEFAULT_DAYS`` days, every store in view), so ``?store=…`` or ``?export=csv`` alone
    work too."""
    today = timezone.localdate(timezone=timezone.get_default_timezone())  # the shop's day
    data = request.GET.copy()
    data.setdefault("start", (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat())
    data.setdefault("end", today.isoformat())
    return TakingsForm(data, stores=stores)


def _method_labels() -> dict[str, str]:
    """Each method's name in the staff member's language, in ``PAYMENT_METHODS`` order."""
    return {code: capfirst(str(PaymentMethod(code).label)) for code in PAYMENT_METHODS}


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _column(
    day: date, tally: Tally, parts: Sequence[Sequence[str]], labels: dict[str, str]
) -> Column:
    hover = ngettext(
        "%(day)s: %(receipts)s receipt, %(taken)s taken",
        "%(day)s: %(receipts)s receipts, %(taken)s taken",
        tally.receipts,
    ) % {
        "day": date_format(day, "SHORT_DATE_FORMAT"),
        "receipts": tally.receipts,
        "taken": _money(tally.taken),
    }
    used = [f"{labels[m]} {_money(tally.amount(m))}" for m in PAYMENT_METHODS if tally.amount(m)]
    if used:
        hover += f" ({', '.join(used)})"
    if tally.returns:
        hover += "; " + gettext("%(refunds)s refunded") % {"refunds": _money(tally.refunds)}
    return Column(
        label=day.strftime("%m-%d"),
        parts=tuple(sum((tally.amount(m) for m in part), Decimal(0)) for part in parts),
        hover=hover,
    )


def takings_chart(takings: Takings) -> SafeString:
    """Each day's takings (every store in the report), stacked by payment method."""
    total = takings.total()
    used = sorted(
        (m for m in PAYMENT_METHODS if total.amount(m)), key=lambda m: (-total.amount(m), m)
    )
    labels = _method_labels()
    if len(used) <= CHART_PARTS:
        parts: list[list[str]] = [[m] for m in used]
        legend = [labels[m] for m in used]
    else:
        keep = CHART_PARTS - 1
        parts = [*([m] for m in used[:keep]), used[keep:]]
        legend = [*(labels[m] for m in used[:keep]), gettext("Other methods")]
    return stacked_columns_svg(
        [_column(day, tally, parts, labels) for day, tally in takings.per_day()],
        legend=legend,
        title=gettext("Takings per day by payment method"),
    )


def _rows(takings: Takings, stores: dict[int, StoreName]) -> list[dict[str, Any]]:
    """The table: a row per store and day, by store code then day."""

    def store_of(row: StoreDay) -> StoreName:
        return stores.get(row.store_id) or StoreName(
            id=row.store_id, code=str(row.store_id), name_en="", name_zh=""
        )

    ordered = sorted(takings.rows, key=lambda row: (store_of(row).code, row.day))
    return [{"store": store_of(row), "day": row.day, **_figures(row.tally)} for row in ordered]


def _figures(tally: Tally) -> dict[str, Any]:
    """A row's figures as the page and the CSV write them (the same text in both)."""
    return {
        "receipts": tally.receipts,
        "methods": [_money(tally.amount(m)) for m in PAYMENT_METHODS],
        # On the page each method's cell shows, under what it took, what it refunded.
        "cells": [
            {"taken": _money(tally.amount(m)), "refunded": _money(tally.refunded(m))}
            if tally.refunded(m)
            else {"taken": _money(tally.amount(m))}
            for m in PAYMENT_METHODS
        ],
        "refund_ways": [_money(tally.refunded(way)) for way in REFUND_WAYS],
        "taken": _money(tally.taken),
        "returns": tally.returns,
        "refunds": _money(tally.refunds),
        "net": _money(tally.net),
    }


def _csv(rows: Sequence[dict[str, Any]], total: dict[str, Any], name: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the Chinese names as UTF-8
    writer = csv.writer(response)
    refund_ways = [f"refund_{way or 'unknown'}" for way in REFUND_WAYS]
    figures = ["receipts", *PAYMENT_METHODS, "taken", "returns", "refunds", *refund_ways, "net"]
    writer.writerow(["store", "name_en", "name_zh", "day", *figures])
    for row in rows:
        store = row["store"]
        names = (csv_cell(store.code), csv_cell(store.name_en), csv_cell(store.name_zh))
        writer.writerow([*names, row["day"].isoformat(), *_figure_cells(row)])
    writer.writerow(["TOTAL", "", "", "", *_figure_cells(total)])
    return response


def _figure_cells(figures: dict[str, Any]) -> list[Any]:
    """A row's figures in the CSV's column order."""
    return [
        figures["receipts"],
        *figures["methods"],
        figures["taken"],
        figures["returns"],
        figures["refunds"],
        *figures["refund_ways"],
        figures["net"],
    ]


def takings_view(request: HttpRequest, *, model_admin: ModelAdmin[Any]) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    scope = receipt_scope(request)
    stores = list_stores(location_ids=scope.location_ids)
    by_code = {store.code: store for store in stores}
    form = _form(request, stores)
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": gettext("Takings by payment method"),
        "form": form,
        "show_store": len(stores) > 1,
        "methods": list(_method_labels().values()),
        "zone": timezone.get_default_timezone_name(),
        "max_days": MAX_DAYS,
    }
    # With a bad filter the page shows its errors and no figures: a default week shown
    # under dates someone typed could be taken for the period they asked about.
    if not form.is_valid():
        return TemplateResponse(request, TEMPLATE, context)
    first, last = form.cleaned_data["start"], form.cleaned_data["end"]
    chosen = by_code.get(form.cleaned_data["store"])
    if chosen is not None:
        store_ids: list[int] | None = [chosen.id]
    else:
        store_ids = None if scope.everywhere else [store.id for store in stores]
    takings = takings_by_method(first=first, last=last, store_ids=store_ids)
    rows = _rows(takings, {store.id: store for store in stores})
    total = _figures(takings.total())
    if request.GET.get("export") == "csv":
        name = f"takings-{chosen.code}-{first}-{last}" if chosen else f"takings-{first}-{last}"
        return _csv(rows, total, name)
    query = {"start": first.isoformat(), "end": last.isoformat()}
    if chosen is not None:
        query["store"] = chosen.code
    context |= {
        "start": first,
        "end": last,
        "store": chosen,
        "currency": takings.currency,
        "rows": rows,
        "total": total,
        "chart": takings_chart(takings),
        "csv_query": urlencode({**query, "export": "csv"}),
    }
    return TemplateResponse(request, TEMPLATE, context)


def takings_urls(model_admin: ModelAdmin[Any]) -> list[URLPattern]:
    """The report's URL, for ``ReceiptAdmin.get_urls`` (``admin:pos_takings``)."""

    def view(request: HttpRequest) -> HttpResponse:
        return takings_view(request, model_admin=model_admin)

    return [path("takings/", model_admin.admin_site.admin_view(view), name="pos_takings")]
