"""The order list's "Export CSV": what the list shows, every page, audited, by permission."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from omnimall.core.models import AuditEntry
from omnimall.core.roles import CUSTOMER_SERVICE, STORE_STAFF
from omnimall.orders.admin import export
from omnimall.orders.models import Order
from omnimall.orders.services import cancellation
from tests.inventory.factories import make_location
from tests.orders.factories import ACTOR, make_paid_order, make_shop, place

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"
EXPORT = "/admin/orders/order/export/"
BOM = "\ufeff".encode()


@pytest.fixture(autouse=True)
def _english(settings):
    """The back office's texts are asserted in English (the site's default is zh-hans)."""
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def orders():
    """A paid delivery, a paid pick-up and a cancelled (never paid) delivery."""
    shop = make_shop()
    paid = make_paid_order(shop, shipping="12.00")
    pickup = make_paid_order(shop, method="pickup", quantities=(1, 1))
    placed = place(shop, quantities=(2,))
    cancellation.cancel_order(
        order_id=placed.order_id,
        actor=ACTOR,
        reason="changed my mind",
        by_shopper=True,
        why="changed_mind",
    )
    cancelled = Order.objects.get(pk=placed.order_id)
    return {"paid": paid, "pickup": pickup, "cancelled": cancelled, "shop": shop}


def staff_with(role: str, username: str = "someone"):
    user = get_user_model().objects.create_user(username, password="pw-123456!", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return user, client


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def rows_in(body: bytes) -> dict[str, dict[str, str]]:
    """The CSV's rows by order number."""
    text = body.decode("utf-8-sig")
    return {row["number"]: row for row in csv.DictReader(io.StringIO(text))}


def rows_of(response) -> dict[str, dict[str, str]]:
    return rows_in(body_of(response))


def shop_time(moment) -> str:
    return timezone.localtime(moment, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M:%S")


def test_export_writes_every_order_with_its_figures_for_a_spreadsheet(admin_client, orders):
    paid, pickup, cancelled = orders["paid"], orders["pickup"], orders["cancelled"]

    response = admin_client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    assert response["Content-Disposition"] == f'attachment; filename="orders-{today}.csv"'
    body = body_of(response)
    assert body.startswith(BOM + b"number,placed_at,state,channel,delivery_method,")
    rows = rows_in(body)
    assert set(rows) == {paid.number, pickup.number, cancelled.number}
    shipped = rows[paid.number]
    assert {key: shipped[key] for key in ("state", "channel", "delivery_method")} == {
        "state": paid.state,
        "channel": "online",
        "delivery_method": "ship",
    }
    assert (shipped["province"], shipped["city"], shipped["district"]) == (
        "上海市",
        "Shanghai",
        "黄浦区",
    )
    assert (shipped["contact_name"], shipped["phone"], shipped["email"]) == (
        "Li Lei",
        "13800138000",
        "shopper@example.com",
    )
    assert shipped["pickup_store"] == ""
    assert shipped["subtotal"] == "179.70"  # 59.90 + 2 x 59.90
    assert shipped["shipping"] == "12.00"
    assert shipped["total"] == "191.70"
    assert shipped["amount_paid"] == "191.70"
    assert shipped["amount_refunded"] == "0.00"
    assert (shipped["points_used"], shipped["points_value"]) == ("0", "0.00")
    assert shipped["currency"] == "CNY"
    assert shipped["placed_at"] == shop_time(paid.placed_at)
    assert shipped["paid_at"] == shop_time(paid.paid_at)
    assert shipped["closed_at"] == ""
    assert shipped["cancel_reason"] == ""
    assert shipped["needs_attention"] == "0"
    at_store = rows[pickup.number]
    assert at_store["delivery_method"] == "pickup"
    assert at_store["pickup_store"] == orders["shop"].store.code
    assert at_store["credited_store"] == orders["shop"].store.code
    assert at_store["credit_reason"] == "pickup_store"
    assert (at_store["province"], at_store["city"], at_store["district"]) == ("", "", "")
    assert at_store["total"] == "119.80"
    gone = rows[cancelled.number]
    assert gone["state"] == "cancelled"
    assert gone["amount_paid"] == "0.00"
    assert gone["paid_at"] == ""
    assert gone["closed_at"] == shop_time(cancelled.closed_at)
    assert gone["cancel_reason"] == "changed_mind"


def test_export_holds_the_lists_filtered_searched_and_drilled_down_orders(admin_client, orders):
    paid, pickup, cancelled = orders["paid"], orders["pickup"], orders["cancelled"]
    this_year = timezone.localdate().year

    by_state = rows_of(admin_client.get(EXPORT, {"state__exact": "cancelled"}))
    by_method = rows_of(admin_client.get(EXPORT, {"delivery_method__exact": "pickup"}))
    by_number = rows_of(admin_client.get(EXPORT, {"q": paid.number}))
    last_year = rows_of(admin_client.get(EXPORT, {"placed_at__year": this_year - 1}))
    this_one = rows_of(admin_client.get(EXPORT, {"placed_at__year": this_year}))

    assert set(by_state) == {cancelled.number}
    assert set(by_method) == {pickup.number}
    assert set(by_number) == {paid.number}
    assert last_year == {}
    assert set(this_one) == {paid.number, pickup.number, cancelled.number}


def test_export_holds_every_page_of_the_list_not_only_the_one_shown(
    admin_client, orders, monkeypatch
):
    monkeypatch.setattr(admin.site._registry[Order], "list_per_page", 2)

    second_page = admin_client.get(CHANGELIST, {"p": "2"})
    exported = rows_of(admin_client.get(EXPORT, {"p": "2"}))

    assert orders["paid"].number[6:] in second_page.content.decode()  # the oldest, alone
    assert orders["pickup"].number[6:] not in second_page.content.decode()
    assert set(exported) == {o.number for o in Order.objects.all()}


def test_the_button_keeps_the_lists_filters_and_search(admin_client, orders):
    listing = admin_client.get(CHANGELIST, {"state__exact": "cancelled", "q": "13800138000"})

    html = listing.content.decode()
    assert "Export CSV" in html
    assert f'href="{EXPORT}?q=13800138000&amp;state__exact=cancelled"' in html


def test_store_staff_see_no_button_and_are_refused_the_export(orders):
    clerk, client = staff_with(STORE_STAFF, "clerk")
    orders["shop"].store.staff.add(clerk)

    listing = client.get(CHANGELIST)
    export = client.get(EXPORT)

    assert listing.status_code == 200
    assert orders["pickup"].number[6:] in listing.content.decode()  # they do see orders
    assert "Export CSV" not in listing.content.decode()
    assert export.status_code == 403
    assert not AuditEntry.objects.filter(action="orders.exported").exists()


def test_an_export_right_given_to_store_staff_still_holds_only_their_stores_orders(orders):
    theirs = make_paid_order(make_shop(), method="pickup")  # another store's pick-up
    clerk, client = staff_with(STORE_STAFF, "clerk")
    elsewhere = make_location("o-st-export-elsewhere", kind="store", offers_pickup=True)
    elsewhere.staff.add(clerk)
    clerk.user_permissions.add(Permission.objects.get(codename="export_order"))

    nothing = rows_of(client.get(EXPORT))
    orders["shop"].store.staff.add(clerk)
    own_store = rows_of(client.get(EXPORT))

    assert nothing == {}
    assert orders["pickup"].number in own_store
    assert theirs.number not in own_store


def test_customer_service_sees_the_button_and_exports(orders):
    _user, client = staff_with(CUSTOMER_SERVICE, "cs")

    listing = client.get(CHANGELIST)
    export = client.get(EXPORT, {"delivery_method__exact": "ship"})

    assert "Export CSV" in listing.content.decode()
    assert export.status_code == 200
    assert set(rows_of(export)) == {orders["paid"].number, orders["cancelled"].number}


def test_text_a_person_typed_cannot_run_as_a_spreadsheet_formula(admin_client):
    order = make_paid_order()
    Order.objects.filter(pk=order.pk).update(
        contact_name='=HYPERLINK("http://evil.example","click")',
        ship_to={**order.ship_to, "city": "@SUM(A1)", "district": "+cmd|' /C calc'!A0"},
        email="-2+3@example.com",
    )

    row = rows_of(admin_client.get(EXPORT))[order.number]

    assert row["contact_name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["city"] == "'@SUM(A1)"
    assert row["district"] == "'+cmd|' /C calc'!A0"
    assert row["email"] == "'-2+3@example.com"
    assert row["total"] == f"{order.total:.2f}"  # numbers stay numbers


def _export_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(EXPORT)
        rows = rows_of(response)  # the rows are read while the response streams
    assert response.status_code == 200
    assert len(rows) == Order.objects.count()
    return len(queries.captured_queries)


def test_the_export_costs_the_same_queries_for_one_order_as_for_five():
    _user, client = staff_with(CUSTOMER_SERVICE, "cs")
    shop = make_shop(units=50)
    place(shop)

    one = _export_queries(client)
    for _ in range(4):
        place(shop, method="pickup")
    five = _export_queries(client)

    assert one == five


def test_each_export_is_on_the_audit_trail_with_its_count_and_filters(orders):
    user, client = staff_with(CUSTOMER_SERVICE, "cs")

    client.get(EXPORT, {"delivery_method__exact": "ship", "p": "3"})

    entry = AuditEntry.objects.get(action="orders.exported")
    assert entry.actor_user_id == user.pk
    assert entry.actor_label == "cs"
    assert entry.changes == {"orders": 2, "query": "delivery_method__exact=ship"}


def test_a_filter_the_list_cannot_apply_sends_back_to_the_list_and_exports_nothing(
    admin_client, orders
):
    response = admin_client.get(EXPORT, {"credited_store__id__exact": "not-a-store"})

    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?credited_store__id__exact=not-a-store"
    assert not AuditEntry.objects.filter(action="orders.exported").exists()


@pytest.mark.django_db(False)
def test_a_long_export_is_sent_in_pieces_that_add_up_to_the_whole_file(monkeypatch):
    rows = [(f"2611270000{n:04d}", "上海市 =x") for n in range(50)]
    monkeypatch.setattr(export, "PIECE", 200)

    pieces = list(export.csv_pieces(rows))

    assert len(pieces) > 5
    assert all(200 <= len(piece) < 200 + 30 for piece in pieces[1:-1])  # one row past it
    lines = "".join(pieces).lstrip("\ufeff").splitlines()
    assert lines[1:] == [f"2611270000{n:04d},上海市 =x" for n in range(50)]
