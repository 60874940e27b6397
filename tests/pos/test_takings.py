"""Takings by payment method: the selector's sums and the back-office page built on it.

The receipts and returns are recorded through the tills' services, as in the shop; the
page is the one the Till receipts admin serves (``admin:pos_takings``).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from omnimall.core import clock
from omnimall.core.roles import FINANCE, STORE_STAFF, sync_roles
from omnimall.pos.models import Receipt, ReceiptLine, ReceiptSource
from omnimall.pos.selectors.takings import takings_by_method
from omnimall.pos.services import returns, sales
from tests.pos.factories import ACTOR, make_shop, receipt_body, return_body, return_of, sale_of

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY1, DAY2 = date(2026, 11, 20), date(2026, 11, 21)
PERIOD = {"start": "2026-11-20", "end": "2026-11-21"}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A time on the shop's clock (Shanghai)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _sell(shop, at, payments, *, price="100.00"):
    body = receipt_body(shop, lines=[(shop.skus[0], 1, price)], payments=payments)
    body["occurred_at"] = at.isoformat()
    sales.record_sale(
        sale=sale_of(body), store_id=shop.store.pk, source=ReceiptSource.API, actor=ACTOR
    )
    return body["receipt_number"]


def _give_back(shop, receipt_number, at, amount, refund_method=None):
    body = return_body(
        shop,
        receipt_number=receipt_number,
        lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": amount, "line_no": 1}],
    )
    body["occurred_at"] = at.isoformat()
    if refund_method is not None:
        body["refund_method"] = refund_method
    returns.record_till_return(till_return=return_of(body), store_id=shop.store.pk, actor=ACTOR)


@pytest.fixture
def shops():
    """Two stores' sales over two days, a return, and what must not count."""
    jingan, pudong = make_shop(code="sh-jingan"), make_shop(code="sh-pudong")
    first = _sell(jingan, _at(DAY1, 12), [{"method": "wechat", "amount": "60.00"}])  # + 40 cash
    # 00:10 on the 21st in Shanghai is 16:10 UTC on the 20th: it is the shop's 21st.
    _sell(jingan, _at(DAY1, 23, 50), [{"method": "card", "amount": "50.00"}], price="50.00")
    _sell(jingan, _at(DAY2, 0, 10), [{"method": "alipay", "amount": "30.00"}], price="30.00")
    _give_back(jingan, first, _at(DAY2, 10), "40.00")
    _sell(pudong, _at(DAY1, 15), [], price="70.00")  # cash
    # Neither counts: a day after the period, and a receipt in another currency.
    _sell(jingan, _at(DAY2 + timedelta(days=1), 9), [], price="5.00")
    dollars = _sell(pudong, _at(DAY1, 16), [], price="9.00")
    Receipt.objects.filter(number=dollars).update(currency="USD")
    return {"jingan": jingan.store, "pudong": pudong.store}


def _by_store_day(takings, stores):
    code = {store.pk: code for code, store in stores.items()}
    return {(code[row.store_id], row.day): row.tally for row in takings.rows}


def test_takings_by_method_sums_each_store_day_by_method_and_refunds(shops):
    takings = takings_by_method(first=DAY1, last=DAY2)

    rows = _by_store_day(takings, shops)
    assert set(rows) == {("jingan", DAY1), ("jingan", DAY2), ("pudong", DAY1)}
    day1 = rows[("jingan", DAY1)]
    assert day1.receipts == 2
    assert dict(day1.by_method) == {
        "wechat": Decimal("60.00"),
        "cash": Decimal("40.00"),
        "card": Decimal("50.00"),
    }
    assert (day1.taken, day1.returns, day1.refunds) == (Decimal("150.00"), 0, Decimal("0.00"))
    day2 = rows[("jingan", DAY2)]
    assert (day2.receipts, dict(day2.by_method)) == (1, {"alipay": Decimal("30.00")})
    assert (day2.returns, day2.refunds, day2.net) == (1, Decimal("40.00"), Decimal("-10.00"))
    assert dict(rows[("pudong", DAY1)].by_method) == {"cash": Decimal("70.00")}
    total = takings.total()
    assert (total.receipts, total.taken, total.net) == (4, Decimal("250.00"), Decimal("210.00"))
    assert [(day, tally.taken) for day, tally in takings.per_day()] == [
        (DAY1, Decimal("220.00")),
        (DAY2, Decimal("30.00")),
    ]


def test_takings_by_method_counts_only_the_given_stores(shops):
    takings = takings_by_method(first=DAY1, last=DAY2, store_ids=[shops["pudong"].pk])

    assert [(row.store_id, row.tally.taken) for row in takings.rows] == [
        (shops["pudong"].pk, Decimal("70.00"))
    ]


@pytest.fixture
def superuser_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "x" * 12)
    client.force_login(user)
    return client


def _csv_rows(reply):
    assert reply["Content-Type"].startswith("text/csv")
    assert reply.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))


def test_takings_page_shows_each_store_day_a_chart_and_says_how_refunds_count(
    superuser_client, shops, settings
):
    settings.LANGUAGE_CODE = "en"

    reply = superuser_client.get(reverse("admin:pos_takings"), PERIOD)

    assert reply.status_code == 200
    page = reply.content.decode()
    assert reverse("admin:pos_takings") == "/admin/pos/receipt/takings/"
    assert "<svg" in page
    assert "Takings per day by payment method" in page
    assert "what was refunded that way" in page
    assert "sh-jingan" in page
    assert "sh-pudong" in page
    total = reply.context["total"]
    assert (total["receipts"], total["taken"], total["refunds"], total["net"]) == (
        4,
        "250.00",
        "40.00",
        "210.00",
    )
    assert '<tr class="total">' in page


def test_takings_csv_totals_equal_the_page(superuser_client, shops):
    page = superuser_client.get(reverse("admin:pos_takings"), PERIOD)

    export = superuser_client.get(reverse("admin:pos_takings"), {**PERIOD, "export": "csv"})

    rows = _csv_rows(export)
    total = rows[-1]
    assert total["store"] == "TOTAL"
    shown = page.context["total"]
    methods = ["cash", "card", "wechat", "alipay", "digital_rmb", "points", "other"]
    assert [total[m] for m in methods] == shown["methods"]
    assert [total["receipts"], total["taken"], total["refunds"], total["net"]] == [
        str(shown["receipts"]),
        shown["taken"],
        shown["refunds"],
        shown["net"],
    ]
    assert total["taken"] == "250.00"
    # The TOTAL row is the sum of the rows above it.
    assert sum(Decimal(row["net"]) for row in rows[:-1]) == Decimal(total["net"])
    jingan_day1 = next(r for r in rows if (r["store"], r["day"]) == ("sh-jingan", "2026-11-20"))
    assert (jingan_day1["receipts"], jingan_day1["wechat"], jingan_day1["cash"]) == (
        "2",
        "60.00",
        "40.00",
    )


def _store_staff(client, store):
    sync_roles()
    clerk = get_user_model().objects.create_user("clerk", password="x" * 12, is_staff=True)
    clerk.groups.add(Group.objects.get(name=STORE_STAFF))
    store.staff.add(clerk)
    client.force_login(clerk)
    return clerk


def test_takings_store_staff_see_only_their_store(client, shops):
    _store_staff(client, shops["pudong"])

    page = client.get(reverse("admin:pos_takings"), PERIOD)
    export = client.get(reverse("admin:pos_takings"), {**PERIOD, "export": "csv"})

    assert page.status_code == 200
    assert "sh-jingan" not in page.content.decode()
    assert [(row["store"], row["taken"]) for row in _csv_rows(export)] == [
        ("sh-pudong", "70.00"),
        ("TOTAL", "70.00"),
    ]


def test_takings_store_staff_get_a_form_error_for_another_store(client, shops, settings):
    settings.LANGUAGE_CODE = "en"
    _store_staff(client, shops["pudong"])

    page = client.get(reverse("admin:pos_takings"), {**PERIOD, "store": "sh-jingan"})
    export = client.get(
        reverse("admin:pos_takings"), {**PERIOD, "store": "sh-jingan", "export": "csv"}
    )

    assert page.status_code == 200
    text = page.content.decode()
    assert "Select a valid choice" in text
    assert "rows" not in page.context
    assert "150.00" not in text  # the other store's day
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/html")
    assert "150.00" not in export.content.decode()


def test_takings_store_filter_narrows_for_staff_who_see_every_store(superuser_client, shops):
    reply = superuser_client.get(
        reverse("admin:pos_takings"), {**PERIOD, "store": "sh-pudong", "export": "csv"}
    )

    assert [row["store"] for row in _csv_rows(reply)] == ["sh-pudong", "TOTAL"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"start": "2026-13-01", "end": "junk"}, "Enter a valid date."),
        ({"start": "0001-01-01", "end": "0001-01-02"}, "Choose dates from 2000-01-01"),
        ({"start": "2026-11-21", "end": "2026-11-20"}, "The end date is before the start date."),
        ({"start": "2026-10-01", "end": "2026-11-20"}, "Choose a range of at most 31 days."),
        ({"start": "", "end": "2026-11-20"}, "This field is required."),
    ],
)
def test_takings_bad_dates_are_form_errors_not_figures(
    superuser_client, shops, settings, given, message
):
    settings.LANGUAGE_CODE = "en"

    page = superuser_client.get(reverse("admin:pos_takings"), given)
    export = superuser_client.get(reverse("admin:pos_takings"), {**given, "export": "csv"})

    assert page.status_code == 200
    assert message in page.content.decode()
    assert "total" not in page.context
    assert export.status_code == 200
    assert message in export.content.decode()


def test_takings_default_to_the_last_seven_days(superuser_client, db):
    shop = make_shop(code="sh-xuhui")
    now = clock.now()
    _sell(shop, now - timedelta(hours=1), [], price="12.00")
    _sell(shop, now - timedelta(days=10), [], price="800.00")

    reply = superuser_client.get(reverse("admin:pos_takings"))

    assert reply.status_code == 200
    assert reply.context["total"]["taken"] == "12.00"
    assert (reply.context["end"] - reply.context["start"]).days == 6


def test_takings_chart_groups_the_smaller_methods_when_more_than_four_were_used(
    superuser_client, db, settings
):
    settings.LANGUAGE_CODE = "en"
    shop = make_shop()
    payments = [
        {"method": method, "amount": amount}
        for method, amount in [
            ("wechat", "40"),
            ("alipay", "30"),
            ("card", "20"),
            ("digital_rmb", "1"),
        ]
    ]
    _sell(shop, _at(DAY1, 11), payments)  # and 9.00 in cash

    page = superuser_client.get(reverse("admin:pos_takings"), PERIOD).content.decode()

    assert "Other methods" in page
    assert "WeChat Pay 40.00" in page  # the column's tooltip names every method


def _bulk_receipts(store, count, *, start):
    Receipt.objects.bulk_create(
        Receipt(
            store=store,
            number=f"BULK-{start + n}",
            occurred_at=_at(DAY1, 9) + timedelta(minutes=n),
            total=Decimal("20.00"),
            payments=[
                {"method": "cash", "amount": "5.00"},
                {"method": "wechat", "amount": "15.00"},
            ],
            source=ReceiptSource.BATCH,
            payload_hash="x",
        )
        for n in range(count)
    )


def test_takings_page_queries_do_not_grow_with_the_receipts(
    client, shops, django_assert_max_num_queries
):
    _store_staff(client, shops["pudong"])
    url = reverse("admin:pos_takings")
    _bulk_receipts(shops["pudong"], 2, start=0)
    with CaptureQueriesContext(connection) as few:
        client.get(url, PERIOD)
    _bulk_receipts(shops["pudong"], 60, start=100)

    with django_assert_max_num_queries(len(few.captured_queries)):
        reply = client.get(url, PERIOD)

    assert reply.context["total"]["receipts"] == 1 + 62
    assert reply.context["total"]["taken"] == "1310.00"  # 70 + 62 × 20


def test_takings_need_the_receipts_view_permission(client, db):
    clerk = get_user_model().objects.create_user("temp", password="x" * 12, is_staff=True)
    client.force_login(clerk)

    reply = client.get(reverse("admin:pos_takings"))

    assert reply.status_code == 403


def test_receipts_list_links_to_the_takings(superuser_client, settings):
    settings.LANGUAGE_CODE = "en"

    reply = superuser_client.get(reverse("admin:pos_receipt_changelist"))

    assert reply.status_code == 200
    assert f'href="{reverse("admin:pos_takings")}"' in reply.content.decode()


def test_finance_reconciles_with_the_takings(client, shops):
    """Finance matches the stores' takings against the bank's and wallets' payouts."""
    accountant = get_user_model().objects.create_user("acc", password="x" * 12, is_staff=True)
    accountant.groups.add(Group.objects.get(name=FINANCE))
    client.force_login(accountant)

    reply = client.get(reverse("admin:pos_takings"), PERIOD)

    assert reply.status_code == 200
    assert reply.context["total"]["receipts"] > 0


def test_refunds_are_taken_off_the_way_they_were_paid_out(shops, superuser_client, settings):
    """The fixture's return (a receipt paid by WeChat and cash, the till silent) is of no
    known way; one paid by Alipay alone goes back to Alipay; the till may say cash."""
    settings.LANGUAGE_CODE = "en"
    jingan = shops["jingan"]
    sold = ReceiptLine.objects.filter(receipt__store=jingan).first()
    shop = SimpleNamespace(store=jingan, skus=[sold.sku])  # what _give_back reads of a shop
    alipay = Receipt.objects.get(store=jingan, payments__0__method="alipay").number
    _give_back(shop, alipay, _at(DAY2, 11), "30.00")
    card = Receipt.objects.get(store=jingan, payments__0__method="card").number
    _give_back(shop, card, _at(DAY2, 12), "20.00", refund_method="现金")

    day2 = _by_store_day(takings_by_method(first=DAY1, last=DAY2), shops)[("jingan", DAY2)]
    export = _csv_rows(
        superuser_client.get(reverse("admin:pos_takings"), {**PERIOD, "export": "csv"})
    )
    page = superuser_client.get(reverse("admin:pos_takings"), PERIOD)

    assert dict(day2.refunds_by_method) == {
        "": Decimal("40.00"),
        "alipay": Decimal("30.00"),
        "cash": Decimal("20.00"),
    }
    assert (day2.refunds, day2.net_of("alipay"), day2.net_of("cash")) == (
        Decimal("90.00"),
        Decimal("0.00"),
        Decimal("-20.00"),
    )
    assert day2.net == day2.taken - Decimal("90.00")
    row = next(r for r in export if (r["store"], r["day"]) == ("sh-jingan", "2026-11-21"))
    assert (row["refund_alipay"], row["refund_cash"], row["refund_unknown"]) == (
        "30.00",
        "20.00",
        "40.00",
    )
    assert row["refunds"] == "90.00"
    assert "refund_points" not in row
    assert export[-1]["refund_cash"] == "20.00"
    assert '<span class="refunded" title="refunded this way">−30.00</span>' in (
        page.content.decode()
    )
