"""The signed-in shopper's order history and its tabs, as shopping apps in China have them
(全部 · 待付款 · 待发货 · 待收货 · 退款/售后): what to pay, what is being prepared, what is on
its way or waiting at the store, and what is in after-sales.

Each tab is a condition on the order's state, and after-sales also on an open return
request, so an order moves between tabs as the state machine moves it, with nothing stored.
The counts of every tab are one statement; a tab's page is two (its count and its rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from omnimall.orders import domain
from omnimall.orders.models import OPEN_RETURN_STATES, Order, OrderLine, ReturnRequest

from .orders import PAGE_SIZE, OrderPage, OrderSummary, display_number, state_label

ALL = "all"


@dataclass(frozen=True, slots=True)
class Tab:
    key: str
    label: Promise
    states: frozenset[str]
    open_returns: bool = False  # an open return request also puts the order here

    def condition(self) -> Q:
        if not self.states:
            return Q()
        condition = Q(state__in=sorted(self.states))
        if self.open_returns:
            condition |= Q(
                Exists(
                    ReturnRequest.objects.filter(
                        order_id=OuterRef("pk"), state__in=OPEN_RETURN_STATES
                    )
                )
            )
        return condition


TABS: tuple[Tab, ...] = (
    Tab(ALL, pgettext_lazy("order history tab", "All orders"), frozenset()),
    Tab(
        "to_pay", pgettext_lazy("order history tab", "To pay"), frozenset({domain.PENDING_PAYMENT})
    ),
    Tab(
        "preparing",
        pgettext_lazy("order history tab", "Being prepared"),
        frozenset({domain.PAID, domain.ALLOCATED}),
    ),
    Tab(
        "to_receive",
        pgettext_lazy("order history tab", "To receive"),
        frozenset({domain.PARTIALLY_SHIPPED, domain.SHIPPED, domain.READY_FOR_PICKUP}),
    ),
    Tab(
        "after_sales",
        pgettext_lazy("order history tab", "Returns & refunds"),
        frozenset({domain.PARTLY_REFUNDED, domain.REFUNDED, domain.RETURNED}),
        open_returns=True,
    ),
)
TAB_KEYS: tuple[str, ...] = tuple(tab.key for tab in TABS)
_BY_KEY: Mapping[str, Tab] = {tab.key: tab for tab in TABS}


def tab_for(key: str | None) -> Tab:
    """The tab named ``key``; all orders for anything else (a link typed by hand)."""
    return _BY_KEY.get(key or ALL, _BY_KEY[ALL])


def _signed_in(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def count_orders_by_tab(*, user: Any) -> dict[str, int]:
    """``{tab key: how many of the shopper's orders it holds}``, every tab in one statement."""
    if not _signed_in(user):
        return dict.fromkeys(TAB_KEYS, 0)
    counts = Order.objects.filter(user_id=user.pk).aggregate(
        **{tab.key: Count("pk", filter=tab.condition()) for tab in TABS}
    )
    return {key: int(counts[key] or 0) for key in TAB_KEYS}


SEARCH_MAX_LENGTH = 60
NUMBER_MIN_DIGITS = 4  # fewer digits would match most order numbers


def search_condition(query: str) -> Q:
    """Orders one of whose products is named with ``query`` (any case), or whose number
    holds it when it is digits ("482193", "261127 482193"); ``Q()`` for an empty query."""
    text = " ".join(query.split())[:SEARCH_MAX_LENGTH]
    if not text:
        return Q()
    named = Q(
        Exists(OrderLine.objects.filter(order_id=OuterRef("pk"), product_name__icontains=text))
    )
    digits = text.replace(" ", "")
    if digits.isdigit() and len(digits) >= NUMBER_MIN_DIGITS:
        return named | Q(number__contains=digits)
    return named


def list_orders_for_user(
    *, user: Any, page: int = 1, show: str = ALL, query: str = ""
) -> OrderPage:
    """The signed-in shopper's orders in the tab ``show`` matching ``query``
    (``search_condition``), newest first, ``PAGE_SIZE`` a page (two queries); a page past
    the last gives the last."""
    if not _signed_in(user):
        return OrderPage(results=(), page=1, pages=1, total=0)
    rows = (
        Order.objects.filter(user_id=user.pk)
        .filter(tab_for(show).condition())
        .filter(search_condition(query))
        .annotate(items=Sum("lines__quantity"))
        .order_by("-placed_at", "-pk")
        .only(
            "number",
            "state",
            "placed_at",
            "total",
            "currency",
            "delivery_method",
            "reserved_until",
        )
    )
    paginator = Paginator(rows, PAGE_SIZE)
    current = paginator.get_page(page)
    return OrderPage(
        results=tuple(
            OrderSummary(
                number=o.number,
                display_number=display_number(o.number),
                state=o.state,
                state_label=state_label(o.state),
                placed_at=o.placed_at,
                total=o.total,
                currency=o.currency,
                item_count=int(o.items or 0),  # type: ignore[attr-defined]
                delivery_method=o.delivery_method,
                pay_by=o.reserved_until if o.state == domain.PENDING_PAYMENT else None,
            )
            for o in current.object_list
        ),
        page=current.number,
        pages=paginator.num_pages,
        total=paginator.count,
    )
