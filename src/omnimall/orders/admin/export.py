"""The order list's "Export CSV": every order the list shows, on every page, as a CSV.

Served at ``/admin/orders/order/export/`` (URL name ``admin:orders_order_export``; the
Order admin adds ``order_export_urls(self)`` to its URLs) with the list's own query
string. The orders come from the admin's ChangeList built from that query string, so the
file holds exactly what the list shows: its filters, search, date drill-down, ordering
and the staff member's scope (``scope.narrow_orders``), never a second copy of those
rules that could drift from the list.

Shoppers' personal data in bulk (PIPL): it needs ``orders.export_order`` (a role grant
in ``core.roles``, not store staff), and every export is on the audit trail.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, QueryDict, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone

from omnimall.core.actors import Actor
from omnimall.core.reports import csv_cell
from omnimall.orders.selectors.export import EXPORT_HEADER, list_export_rows
from omnimall.orders.services.exports import record_order_export

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin
    from django.http import HttpRequest
    from django.http.response import HttpResponseBase
    from django.urls import URLPattern

EXPORT = "orders.export_order"
# Rows are written to the response in pieces of about this many characters: one piece
# per row would mean a write (and a system call) for each of 100,000 orders.
PIECE = 64 * 1024


def may_export(request: HttpRequest, model_admin: ModelAdmin[Any]) -> bool:
    return model_admin.has_view_permission(request) and bool(request.user.has_perm(EXPORT))


def _cell(value: object) -> object:
    """One value as spreadsheets read it: amounts to the cent, times in the shop's zone,
    yes/no as 1/0, every text through ``csv_cell`` (names, addresses and store codes are
    typed by people)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        shop_time = timezone.localtime(value, timezone.get_default_timezone())
        return shop_time.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, int):
        return value
    return csv_cell(value)


def csv_pieces(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """The CSV text, header first, in pieces of about ``PIECE`` characters."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so spreadsheet programs read the Chinese names as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
        if buffer.tell() >= PIECE:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def order_export_view(request: HttpRequest, *, model_admin: ModelAdmin[Any]) -> HttpResponseBase:
    if not may_export(request, model_admin):
        raise PermissionDenied
    # Every page, not the one the list was on when the button was pressed.
    query = request.GET.copy()
    for name in (PAGE_VAR, ERROR_FLAG):
        query.pop(name, None)
    request.GET = QueryDict(query.urlencode())
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        # A filter the list cannot apply: back to the list, which handles it as ever.
        list_url = reverse("admin:orders_order_changelist")
        return HttpResponseRedirect(f"{list_url}?{query.urlencode()}")
    # Recorded before the first byte leaves: a download cut off halfway still took data.
    # The count is the list's own (the ChangeList counted it to paginate).
    record_order_export(
        actor=Actor.from_user(request.user),
        orders=changelist.result_count,
        query=query.urlencode(),
    )
    response = StreamingHttpResponse(
        csv_pieces(list_export_rows(orders=changelist.queryset)),
        content_type="text/csv; charset=utf-8",
    )
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    response["Content-Disposition"] = f'attachment; filename="orders-{today}.csv"'
    return response


def order_export_urls(model_admin: ModelAdmin[Any]) -> list[URLPattern]:
    """The export's URL, for ``OrderAdmin.get_urls`` (``admin:orders_order_export``)."""

    def view(request: HttpRequest) -> HttpResponseBase:
        return order_export_view(request, model_admin=model_admin)

    return [path("export/", model_admin.admin_site.admin_view(view), name="orders_order_export")]
