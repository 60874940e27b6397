"""Store credit: the attribution rule (each branch, in order) and the back-office report.

The report is served by whichever admin includes ``credit_report_urls`` (the Order admin
in the shop); here a test admin site wires it the same way, so the page is tested on its
own: numbers for a superuser, the CSV's sums, a store member seeing only their store.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import path, reverse
from django.utils import timezone

from omnimall import urls as shop_urls
from omnimall.core import clock
from omnimall.core.roles import STORE_STAFF, sync_roles
from omnimall.orders import domain
from omnimall.orders.admin.credit import credit_report_urls
from omnimall.orders.attribution import credit_store_for, store_credit_report
from omnimall.orders.models import CreditReason, Order
from omnimall.orders.services import refunds
from tests.inventory.factories import make_location, make_skus
from tests.orders.test_refunds import STAFF, paid_order


class _OrderAdmin(admin.ModelAdmin):
    def get_urls(self) -> list[Any]:
        return [*credit_report_urls(self), *super().get_urls()]


site = admin.AdminSite(name="admin")
site.register(Order, _OrderAdmin)
# This site comes first, so "admin:" reverses and resolves to it; the shop's other URLs
# (the sandbox gateway's pages, used to pay the test orders) stay reachable.
urlpatterns = [path("admin/", site.urls), *shop_urls.urlpatterns]


@pytest.fixture(autouse=True)
def _no_delivery(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def stores(db):
    return {
        "jingan": make_location(
            "sh-jingan",
            kind="store",
            city="Shanghai",
            priority=20,
            latitude=31.2230,
            longitude=121.4450,
        ),
        "pudong": make_location(
            "sh-pudong",
            kind="store",
            city="上海市",
            priority=10,
            latitude=31.2200,
            longitude=121.5400,
        ),
        "xuhui": make_location(
            "sh-xuhui",
            kind="store",
            city="shanghai",
            priority=10,
            latitude=31.1880,
            longitude=121.4370,
        ),
        "beijing": make_location("bj-sanlitun", kind="store", city="北京", priority=10),
        "closed": make_location("sh-closed", kind="store", city="Shanghai", is_active=False),
        "warehouse": make_location("wh-sh", kind="warehouse", city="Shanghai", priority=1),
    }


def _credit(**given: Any) -> tuple[int | None, str]:
    args = {
        "referral_store_code": "",
        "pickup_store_id": None,
        "user_id": None,
        "ship_to_city": None,
    }
    return credit_store_for(**{**args, **given})


def test_credit_store_for_prefers_the_referral_code_over_everything(stores):
    assert _credit(
        referral_store_code="BJ-Sanlitun",
        pickup_store_id=stores["jingan"].pk,
        ship_to_city="上海",
    ) == (stores["beijing"].pk, CreditReason.REFERRAL)


@pytest.mark.parametrize("code", ["wh-sh", "sh-closed", "no-such-store", "../../x"])
def test_credit_store_for_ignores_a_code_that_is_not_an_active_store(stores, code):
    assert _credit(referral_store_code=code, pickup_store_id=stores["jingan"].pk) == (
        stores["jingan"].pk,
        CreditReason.PICKUP_STORE,
    )


def test_credit_store_for_home_store_hook_gives_nothing_yet(stores, django_user_model):
    user = django_user_model.objects.create_user("shopper", password="x" * 12)

    assert _credit(user_id=user.pk) == (None, "")


def test_credit_store_for_delivery_city_picks_priority_then_nearest(stores):
    # pudong and xuhui share the best priority; xuhui is nearer the city centre.
    assert _credit(ship_to_city="上海市") == (stores["xuhui"].pk, CreditReason.DELIVERY_CITY)
    assert _credit(ship_to_city="Beijing") == (stores["beijing"].pk, CreditReason.DELIVERY_CITY)


def test_credit_store_for_gives_no_store_when_nothing_matches(stores):
    assert _credit(ship_to_city="Lhasa") == (None, "")
    assert _credit() == (None, "")


def test_credit_store_for_reads_at_most_two_queries(stores, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        _credit(referral_store_code="nope", pickup_store_id=None, ship_to_city="上海")


# --- the report --------------------------------------------------------------------------


@pytest.fixture
def credited(stores):
    sku_a, sku_b = make_skus(2)
    jingan, pudong = stores["jingan"], stores["pudong"]
    made = [
        paid_order([(sku_a, 2, "50.00")], credited_store=jingan, credit_reason="referral"),
        paid_order([(sku_b, 1, "30.00")], credited_store=jingan, credit_reason="pickup_store"),
        paid_order([(sku_a, 1, "50.00")], credited_store=pudong, credit_reason="delivery_city"),
    ]
    refunds.refund_order(order_id=made[0].pk, amount=Decimal("20.00"), reason="x", actor=STAFF)
    # Neither counts: an unpaid order, and one placed before the period.
    unpaid = paid_order([(sku_a, 1, "50.00")], credited_store=jingan, credit_reason="referral")
    Order.objects.filter(pk=unpaid.pk).update(state=domain.PENDING_PAYMENT)
    old = paid_order([(sku_a, 1, "50.00")], credited_store=pudong, credit_reason="referral")
    Order.objects.filter(pk=old.pk).update(placed_at=clock.now() - timedelta(days=40))
    # Nor one in another currency: its amount cannot be added to yuan.
    dollars = paid_order([(sku_a, 1, "50.00")], credited_store=pudong, credit_reason="referral")
    Order.objects.filter(pk=dollars.pk).update(currency="USD")
    return made


def test_store_credit_report_sums_paid_orders_per_store(stores, credited):
    now = clock.now()

    report = store_credit_report(start=now - timedelta(days=30), end=now + timedelta(days=1))

    by_code = {row.code: row for row in report}
    assert set(by_code) == {"sh-jingan", "sh-pudong"}
    assert by_code["sh-jingan"].orders == 2
    assert by_code["sh-jingan"].revenue == Decimal("110.00")  # 100 - 20 refunded + 30
    assert by_code["sh-jingan"].share("referral") == Decimal("50.0")
    assert by_code["sh-pudong"].revenue == Decimal("50.00")
    assert [row.code for row in report] == ["sh-jingan", "sh-pudong"]


@pytest.fixture
def superuser_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "x" * 12)
    client.force_login(user)
    return client


@pytest.mark.urls(__name__)
def test_credit_report_page_shows_numbers_chart_and_reasons(superuser_client, credited):
    reply = superuser_client.get(reverse("admin:orders_store_credit"), HTTP_ACCEPT_LANGUAGE="en")

    assert reply.status_code == 200
    page = reply.content.decode()
    assert "sh-jingan" in page
    assert "sh-pudong" in page
    assert "110.00" in page
    assert "160.00" in page  # total revenue
    assert "<svg" in page
    assert "50.0" in page
    # The bars read "110.00 (2)": the page says what the figure and the brackets are.
    assert "Paid revenue per store; the number of orders in brackets" in page


@pytest.mark.urls(__name__)
def test_credit_report_csv_export_has_the_right_sums(superuser_client, credited):
    today = timezone.localdate()
    url = reverse("admin:orders_store_credit")

    reply = superuser_client.get(
        url, {"start": str(today - timedelta(days=3)), "end": str(today), "export": "csv"}
    )

    assert reply.status_code == 200
    assert reply["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
    by_store = {row["store"]: row for row in rows}
    assert by_store["sh-jingan"]["orders"] == "2"
    assert by_store["sh-jingan"]["paid_revenue"] == "110.00"
    assert by_store["sh-jingan"]["referral"] == "1"
    assert by_store["sh-jingan"]["pickup_store"] == "1"
    assert by_store["sh-pudong"]["delivery_city"] == "1"
    assert by_store["TOTAL"]["orders"] == "3"
    assert by_store["TOTAL"]["paid_revenue"] == "160.00"


@pytest.mark.urls(__name__)
def test_credit_report_bad_dates_fall_back_to_the_last_30_days(superuser_client, credited):
    reply = superuser_client.get(
        reverse("admin:orders_store_credit"), {"start": "2026-13-01", "end": "junk"}
    )

    assert reply.status_code == 200
    assert "110.00" in reply.content.decode()


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("0001-01-01", "0001-01-02", "Choose dates from 2000-01-01 to 2099-12-31."),
        ("9999-12-30", "9999-12-31", "Choose dates from 2000-01-01 to 2099-12-31."),
        ("2026-11-20", "2026-11-01", "The end date is before the start date."),
    ],
)
def test_credit_report_out_of_range_dates_are_form_errors(
    superuser_client, credited, settings, start, end, message
):
    settings.LANGUAGE_CODE = "en"
    reply = superuser_client.get(reverse("admin:orders_store_credit"), {"start": start, "end": end})
    export = superuser_client.get(
        reverse("admin:orders_store_credit"), {"start": start, "end": end, "export": "csv"}
    )

    assert reply.status_code == 200
    assert message in reply.content.decode()
    assert export.status_code == 200


@pytest.mark.urls(__name__)
def test_credit_report_store_staff_see_only_their_store(client, stores, credited):
    sync_roles()
    member = get_user_model().objects.create_user("clerk", password="x" * 12, is_staff=True)
    member.groups.add(Group.objects.get(name=STORE_STAFF))
    stores["pudong"].staff.add(member)
    client.force_login(member)

    reply = client.get(reverse("admin:orders_store_credit"), {"export": "csv"})

    rows = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
    assert [row["store"] for row in rows] == ["sh-pudong", "TOTAL"]


@pytest.mark.urls(__name__)
def test_credit_report_refuses_staff_without_order_permission(client, db):
    clerk = get_user_model().objects.create_user("temp", password="x" * 12, is_staff=True)
    client.force_login(clerk)

    reply = client.get(reverse("admin:orders_store_credit"))

    assert reply.status_code == 403


def test_shop_admin_serves_the_store_credit_report_and_the_returns(superuser_client, credited):
    report = superuser_client.get("/admin/orders/order/store-credit/")
    returns_list = superuser_client.get("/admin/orders/returnrequest/")

    assert report.status_code == 200
    assert "110.00" in report.content.decode()
    assert returns_list.status_code == 200
