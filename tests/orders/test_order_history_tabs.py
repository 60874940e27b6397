"""The order history's tabs (全部 · 待付款 · 待发货 · 待收货 · 退款/售后) on the account pages
and in the Store API: each order in the tab its state puts it in, counts in one statement."""

from __future__ import annotations

import re
from typing import get_args

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from omnimall.orders.models import Order
from omnimall.orders.schemas import HistoryTab
from omnimall.orders.selectors import count_orders_by_tab, list_orders_for_user
from omnimall.orders.selectors.history import TAB_KEYS, search_condition
from omnimall.orders.services import cancellation, fulfilment, returns
from tests.orders.factories import (
    ACTOR,
    make_paid_order,
    make_ready_pickup,
    make_shipped_order,
    make_shop,
    place,
)

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def delivered(shop, user) -> Order:
    order = make_shipped_order(shop, user=user)
    return fulfilment.confirm_delivery(order_id=order.pk, actor=ACTOR)


@pytest.fixture
def history(settings):
    """One shopper's orders in every tab, a cancelled one, and another shopper's."""
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    user = get_user_model().objects.create_user(
        username="mei@example.com", email="mei@example.com", password="pw-123456!"
    )
    shop = make_shop(units=40)
    asked_back = delivered(shop, user)
    line = asked_back.lines.order_by("pk").first()
    returns.request_return(order_id=asked_back.pk, lines=[(line.pk, 1)], reason="Too small",
                           actor=ACTOR)  # fmt: skip
    cancelled = place(shop, user=user)
    cancellation.cancel_order(order_id=cancelled.order_id, actor=ACTOR, reason="x", by_shopper=True)
    orders = {
        "to_pay": [place(shop, user=user).number],
        "preparing": [make_paid_order(shop, user=user).number],
        "to_receive": [
            make_shipped_order(shop, user=user).number,
            make_ready_pickup(shop, user=user).number,
        ],
        "after_sales": [asked_back.number],
        "elsewhere": [delivered(shop, user).number, cancelled.number],
    }
    make_paid_order(shop)  # a guest's
    return user, orders


def test_each_order_is_in_the_tab_its_state_puts_it_in(history):
    user, orders = history

    counts = count_orders_by_tab(user=user)
    shown = {
        key: sorted(o.number for o in list_orders_for_user(user=user, show=key).results)
        for key in TAB_KEYS
    }

    assert counts == {"all": 7, "to_pay": 1, "preparing": 1, "to_receive": 2, "after_sales": 1}
    for key in ("to_pay", "preparing", "to_receive", "after_sales"):
        assert shown[key] == sorted(orders[key])
    assert len(shown["all"]) == 7


def test_a_refunded_order_is_in_after_sales_and_a_refused_return_leaves_it(history):
    user, orders = history
    [asked_back] = orders["after_sales"]
    request = Order.objects.get(number=asked_back).returns.get()

    returns.reject_return(return_id=request.pk, reason="Worn", actor=ACTOR)
    after_refusal = count_orders_by_tab(user=user)["after_sales"]
    Order.objects.filter(number=asked_back).update(state="refunded")

    assert after_refusal == 0
    assert count_orders_by_tab(user=user)["after_sales"] == 1


def test_the_counts_of_every_tab_are_one_statement(history):
    user, _ = history

    with CaptureQueriesContext(connection) as queries:
        count_orders_by_tab(user=user)

    assert len(queries.captured_queries) == 1


def test_the_orders_page_shows_one_tab_with_every_tabs_count(history):
    user, orders = history
    client = Client()
    client.force_login(user)

    to_receive = client.get("/account/orders/", {"show": "to_receive"}, **EN).content.decode()
    everything = client.get("/account/orders/", {"show": "nonsense"}, **EN).content.decode()
    home = client.get("/account/", **EN).content.decode()

    for number in orders["to_receive"]:
        assert number[6:] in to_receive
    assert orders["to_pay"][0][6:] not in to_receive
    assert re.search(r'href="/account/orders/\?show=to_receive" aria-current="page">To receive'
                     r' <span class="order-tab-count">2</span>', to_receive)  # fmt: skip
    assert 'To pay <span class="order-tab-count">1</span>' in to_receive
    assert 'href="/account/orders/" aria-current="page">All orders' in everything
    assert all(n[6:] in everything for n in orders["to_pay"] + orders["after_sales"])
    assert 'href="/account/orders/?show=after_sales"' in home
    assert 'aria-current="page">To pay' not in home


def test_an_empty_tab_says_so_and_links_all_orders(history):
    user, orders = history
    Order.objects.filter(number__in=orders["preparing"]).update(state="cancelled")
    client = Client()
    client.force_login(user)

    page = client.get("/account/orders/", {"show": "preparing"}, **EN).content.decode()

    assert "No orders in “Being prepared”." in page
    assert "See all your orders" in page


def test_the_api_lists_a_tab_with_the_counts_and_refuses_an_unknown_one(history):
    user, orders = history
    client = Client()
    client.force_login(user)

    body = client.get("/api/v1/orders", {"show": "to_receive"}).json()
    unknown = client.get("/api/v1/orders", {"show": "nonsense"})

    assert sorted(o["number"] for o in body["results"]) == sorted(orders["to_receive"])
    assert (body["show"], body["total"]) == ("to_receive", 2)
    assert body["counts"] == {
        "all": 7, "to_pay": 1, "preparing": 1, "to_receive": 2, "after_sales": 1
    }  # fmt: skip
    assert unknown.status_code == 422


def test_the_apis_tabs_are_the_selectors_tabs():
    assert get_args(HistoryTab) == TAB_KEYS


def test_an_order_to_pay_says_until_when_on_the_list_and_in_the_api(history):
    user, orders = history
    client = Client()
    client.force_login(user)
    [number] = orders["to_pay"]
    held = timezone.localtime(Order.objects.get(number=number).reserved_until)

    page = client.get("/account/orders/", {"show": "to_pay"}, **EN).content.decode()
    listed = client.get("/api/v1/orders").json()["results"]

    assert f"Pay by {held:%H:%M}" in page
    by_number = {o["number"]: o["pay_by"] for o in listed}
    assert by_number[number] is not None
    assert [n for n, pay_by in by_number.items() if pay_by] == [number]


def test_the_history_is_searched_by_product_name_or_order_number(history):
    user, orders = history
    [number] = orders["to_pay"]
    others = Order.objects.filter(user=user).exclude(number=number)
    others.first().lines.update(product_name="Linen Shirt")
    client = Client()
    client.force_login(user)

    by_name = list_orders_for_user(user=user, query="linen  shirt")
    by_number = list_orders_for_user(user=user, query=f"{number[:6]} {number[6:]}")
    by_tail = list_orders_for_user(user=user, query=number[-6:])
    in_tab = list_orders_for_user(user=user, show="to_receive", query=number)
    page = client.get("/account/orders/", {"q": "no such thing"}, **EN).content.decode()
    api = client.get("/api/v1/orders", {"q": "Linen Shirt"}).json()

    assert [o.number for o in by_name.results] == [others.first().number]
    assert [o.number for o in by_number.results] == [number]
    assert number in [o.number for o in by_tail.results]
    assert "number__contains" not in str(search_condition("482"))  # too few digits
    assert in_tab.total == 0
    assert "No orders match “no such thing”." in page
    assert [o["number"] for o in api["results"]] == [others.first().number]
    assert api["counts"]["all"] == 7  # the tabs count every order, searched or not
