"""The back office's home page: the work waiting (counts, links, scope) and the sales chart."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from omnimall.core.roles import MERCHANDISER, STORE_STAFF
from omnimall.orders.models import Order
from omnimall.orders.selectors import display_number
from omnimall.orders.selectors.workqueue import daily_sales, order_work_queue
from omnimall.orders.services import refunds
from tests.inventory.factories import make_location
from tests.orders.factories import (
    ACTOR,
    make_paid_order,
    make_ready_pickup,
    make_shipped_order,
    make_shop,
    place,
)

pytestmark = pytest.mark.django_db

HOME = "/admin/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = False


def _queue(html: str) -> dict[str, int]:
    """ "Waiting for you" as {label: count}."""
    module = html.split('id="work-queue-module"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<a href="[^"]*">([^<]+)</a>.*?<td class="count">(\d+)</td>', module, re.S)
    return {label: int(count) for label, count in rows}


def _links(html: str) -> list[str]:
    module = html.split('id="work-queue-module"', 1)[1].split("</table>", 1)[0]
    return [href.replace("&amp;", "&") for href in re.findall(r'<a href="([^"]+)"', module)]


def _staff(username: str, group: str) -> Client:
    user = get_user_model().objects.create_user(
        username=username, password="pw-123456!", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


def _move(order: Order, moment: datetime) -> None:
    Order.objects.filter(pk=order.pk).update(
        placed_at=moment - timedelta(minutes=5), paid_at=moment
    )


def test_the_home_page_counts_the_work_waiting_and_links_to_it(admin_client):
    shop = make_shop(units=20)
    make_paid_order(shop)  # allocated, to ship
    make_paid_order(shop, method="pickup")  # to put aside
    make_ready_pickup(shop)
    make_shipped_order(shop)  # nothing left to do for the shop
    place(shop)  # unpaid: not the shop's work yet
    Order.objects.filter(pk=make_paid_order(shop).pk).update(needs_attention=True)

    page = admin_client.get(HOME)

    html = page.content.decode()
    queue = _queue(html)
    assert queue["Orders needing attention"] == 1
    assert queue["Delivery orders to ship"] == 2
    assert queue["Pick-up orders to put aside"] == 1
    assert queue["Waiting to be picked up"] == 1
    assert queue["Returns to approve"] == 0
    assert queue["Fulfilment requests not yet shipped"] == 4  # the 2 to ship, both pick-ups
    assert queue["Messages that could not be delivered"] == 0
    assert "the oldest for" in html
    for link in _links(html):
        listed = admin_client.get(link)
        assert listed.status_code == 200, link  # a bad filter would redirect with ?e=1


def test_the_links_list_what_was_counted(admin_client):
    shop = make_shop(units=20)
    to_ship = make_paid_order(shop)
    shipped = make_shipped_order(shop)

    html = admin_client.get(HOME).content.decode()
    link = next(url for url in _links(html) if "delivery_method__exact=ship" in url)
    listed = admin_client.get(link).content.decode()

    assert f">{display_number(to_ship.number)}</a>" in listed
    assert f">{display_number(shipped.number)}</a>" not in listed


def test_sales_chart_sums_paid_less_refunded_per_day(admin_client):
    shop = make_shop(units=20)
    today = timezone.localdate()
    earlier = make_paid_order(shop)
    _move(
        earlier,
        datetime.combine(today - timedelta(days=3), datetime.min.time(), SHANGHAI)
        + timedelta(hours=10),
    )
    refunded = make_paid_order(shop)
    refunds.refund_order(
        order_id=refunded.pk, amount=Decimal("10.00"), reason="goodwill", actor=ACTOR
    )
    make_paid_order(shop, method="pickup")
    place(shop)  # unpaid: not a sale

    html = admin_client.get(HOME).content.decode()

    sales = html.split('id="sales-module"', 1)[1]
    paid = Decimal("179.70")  # 59.90 + 2 × 59.90 in each test order
    today_label = f"{today:%m-%d}"
    assert f"2 · CNY {paid * 2 - 10:,.2f}" in sales  # today: the refunded one and the pick-up
    assert f"3 · CNY {paid * 3 - 10:,.2f}" in sales  # 14 days
    assert "<svg" in sales
    assert today_label in sales
    day = today - timedelta(days=3)
    assert re.search(rf"<title>[^<]*{day.day}[^<]*: 1 order, {paid:,.2f}", sales)


def test_daily_sales_uses_shop_days_and_fills_the_gaps():
    shop = make_shop(units=20)
    day = date(2026, 11, 20)
    late = make_paid_order(shop)  # 23:30 in Shanghai is still the 20th there (15:30 UTC)
    _move(late, datetime(2026, 11, 20, 23, 30, tzinfo=SHANGHAI))
    next_morning = make_paid_order(shop, method="pickup")
    _move(next_morning, datetime(2026, 11, 21, 0, 30, tzinfo=SHANGHAI))
    dollars = make_paid_order(shop)
    _move(dollars, datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI))
    Order.objects.filter(pk=dollars.pk).update(currency="USD")

    with timezone.override(SHANGHAI):
        days = daily_sales(
            Order.objects.all(),
            first=day - timedelta(days=1),
            last=day + timedelta(days=2),
            currency="CNY",
        )

    assert [d.day for d in days] == [day + timedelta(days=i) for i in range(-1, 3)]
    assert [(d.delivery_orders, d.pickup_orders) for d in days] == [(0, 0), (1, 0), (0, 1), (0, 0)]
    assert days[1].revenue == late.amount_paid
    assert days[0].revenue == Decimal("0.00")


def test_store_staff_count_their_stores_only():
    shop = make_shop(units=20)
    make_ready_pickup(shop)
    elsewhere = make_location("o-st-dash", kind="store", offers_pickup=True)
    clerk = _staff("clerk", STORE_STAFF)
    elsewhere.staff.add(clerk.user)  # type: ignore[attr-defined]

    before = _queue(clerk.get(HOME).content.decode())
    shop.store.staff.add(clerk.user)  # type: ignore[attr-defined]
    after = _queue(clerk.get(HOME).content.decode())

    assert before["Waiting to be picked up"] == 0
    assert after["Waiting to be picked up"] == 1


def test_staff_without_order_rights_see_no_orders_or_sales():
    make_paid_order()
    merchandiser = _staff("merch", MERCHANDISER)

    html = merchandiser.get(HOME).content.decode()

    assert "Delivery orders to ship" not in html
    assert 'id="sales-module"' not in html


def test_work_queue_is_three_statements_however_many_orders(django_assert_num_queries):
    shop = make_shop(units=40)
    for _ in range(3):
        make_paid_order(shop)
        make_ready_pickup(shop)

    with django_assert_num_queries(3):
        queue = order_work_queue(Order.objects.all())

    assert queue.to_ship.count == 3
    assert queue.awaiting_pickup.count == 3
    assert queue.to_ship.oldest is not None
