"""The invoice list's filters. Two open on finance's work by default, and say so.

With neither chosen in the URL, *state* is "requested" and *order* is "paid" (an invoice
may be issued now): what finance must do. Each lists "all" as a choice of its own, so the
sidebar always shows what is applied; the title and a line above the list say it too,
with a link to every request (``invoice_change_list.html``), and "Clear all filters"
leads there rather than back to the defaults. A search without either filter looks
through every request: who searches for an order's invoice wants it whatever its state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.utils.translation import gettext_lazy as _

from omnimall.orders import domain
from omnimall.orders.models import InvoiceState, OrderState
from omnimall.orders.selectors.invoices import ISSUABLE_ORDER_STATES

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices  # a stub's TypedDict
    from django.db.models import QuerySet
    from django.http import HttpRequest, QueryDict

ALL = "all"
EVERYTHING = {"state": ALL, "order": ALL}  # the query that shows every request

# Orders by what they allow: an invoice issued now, later (once paid), or never.
ORDER_STATES_BY_CHOICE: dict[str, tuple[str, ...]] = {
    "paid": ISSUABLE_ORDER_STATES,
    "unpaid": tuple(
        s
        for s in OrderState.values
        if domain.may_have_invoice(s) and s not in ISSUABLE_ORDER_STATES
    ),
    "closed": tuple(s for s in OrderState.values if not domain.may_have_invoice(s)),
}


def _chosen(params: QueryDict, name: str, default: str) -> str:
    return params.get(name) or (ALL if params.get(SEARCH_VAR) else default)


class _DefaultedFilter(admin.SimpleListFilter):
    """A filter with a default choice and an explicit "all" choice (no blank one)."""

    default = ALL

    def value(self) -> str:
        return _chosen(self.request.GET, str(self.parameter_name), self.default)

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({str(self.parameter_name): lookup}),
                "display": title,
            }


class InvoiceStateFilter(_DefaultedFilter):
    title = _("state")
    parameter_name = "state"
    default = InvoiceState.REQUESTED.value

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [*InvoiceState.choices, (ALL, _("All"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == ALL:
            return queryset
        if value not in InvoiceState.values:
            return queryset.none()  # never send junk (a NUL byte…) to the database
        return queryset.filter(state=value)


class OrderAllowsFilter(_DefaultedFilter):
    title = _("order")
    parameter_name = "order"
    default = "paid"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("paid", _("paid: the invoice may be issued")),
            ("unpaid", _("not paid yet")),
            ("closed", _("cancelled or wholly refunded: no invoice")),
            (ALL, _("All")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == ALL:
            return queryset
        if value not in ORDER_STATES_BY_CHOICE:
            return queryset.none()
        return queryset.filter(order__state__in=ORDER_STATES_BY_CHOICE[value])


DEFAULTED = (InvoiceStateFilter, OrderAllowsFilter)


def shows_work_only(request: HttpRequest) -> bool:
    """True when the list applies both defaults: the requests finance may issue now."""
    return all(
        _chosen(request.GET, str(f.parameter_name), f.default) == f.default for f in DEFAULTED
    )


class InvoiceChangeList(ChangeList):
    """Filtered even with no filter in the URL (the defaults), so "Clear all filters" is
    offered then too, and shows every request instead of going back to the defaults."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> Any:
        queryset = super().get_queryset(request, exclude_parameters)
        defaults_apply = not all(
            _chosen(request.GET, str(f.parameter_name), f.default) == ALL for f in DEFAULTED
        )
        self.has_active_filters = bool(self.has_active_filters or defaults_apply)
        self.clear_all_filters_qs = self.get_query_string(
            new_params=EVERYTHING, remove=self.get_filters_params()
        )
        return queryset
