"""Why each order was cancelled (``Order.cancel_reason``): the shopper's answer, or how the
shop cancelled it; kept for "why do shoppers cancel?"."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import get_args

import pytest
from django.test import Client

from omnimall.core import clock
from omnimall.core.models import AuditEntry, OutboxMessage, WebhookSubscription
from omnimall.orders.errors import InvalidCancelReasonError
from omnimall.orders.models import SHOPPER_CANCEL_REASONS, Order
from omnimall.orders.schemas import ShopperCancelReason
from omnimall.orders.services import cancellation
from tests.orders.factories import ACTOR, make_paid_order, make_ready_pickup, make_shop, place

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.LANGUAGE_CODE = "en"


def reason_of(order_id: int) -> str:
    return Order.objects.get(pk=order_id).cancel_reason


def test_a_shoppers_answer_is_kept_and_audited():
    placed = place(make_shop())

    cancellation.cancel_order(
        order_id=placed.order_id, actor=ACTOR, reason="x", by_shopper=True, why="cheaper"
    )

    assert reason_of(placed.order_id) == "cheaper"
    entry = AuditEntry.objects.get(action="order.cancelled")
    assert entry.changes == {"cancel_reason": ["", "cheaper"]}


def test_without_an_answer_the_order_says_who_cancelled_it():
    shop = make_shop(units=20)
    by_shopper, by_staff = place(shop), place(shop)

    cancellation.cancel_order(order_id=by_shopper.order_id, actor=ACTOR, reason="", by_shopper=True)
    cancellation.cancel_order(order_id=by_staff.order_id, actor=ACTOR, reason="", by_shopper=False)

    assert reason_of(by_shopper.order_id) == "not_said"
    assert reason_of(by_staff.order_id) == "by_staff"


def test_the_sweeps_say_not_paid_and_not_collected(settings):
    shop = make_shop(units=20)
    unpaid = place(shop)
    uncollected = make_ready_pickup(shop)
    later = clock.now() + timedelta(days=settings.PICKUP_UNCOLLECTED_DAYS + 1)

    assert cancellation.expire_unpaid_orders(now=later) == 1
    assert cancellation.cancel_uncollected_pickups(now=later) == 1

    assert reason_of(unpaid.order_id) == "not_paid"
    assert reason_of(uncollected.pk) == "not_collected"


@pytest.mark.parametrize("why", ["not_paid", "by_staff", "bored"])
def test_a_shopper_may_give_only_a_shoppers_reason_and_nothing_changes_otherwise(why):
    placed = place(make_shop())

    with pytest.raises(InvalidCancelReasonError) as refused:
        cancellation.cancel_order(
            order_id=placed.order_id, actor=ACTOR, reason="", by_shopper=True, why=why
        )

    assert "cheaper" in refused.value.details["allowed"]
    order = Order.objects.get(pk=placed.order_id)
    assert (order.state, order.cancel_reason) == ("pending_payment", "")


def test_the_api_takes_the_reason_and_refuses_an_unknown_one():
    placed = place(make_shop())
    url = f"/api/v1/orders/{placed.number}/cancel"

    def post(body):
        return Client().post(url, json.dumps(body), content_type="application/json")

    unknown = post({"token": placed.guest_token, "why": "not_paid"})
    done = post({"token": placed.guest_token, "why": "too_slow"})

    assert unknown.status_code == 422
    assert done.status_code == 200, done.content
    assert reason_of(placed.order_id) == "too_slow"


def test_customer_service_records_the_reason_a_caller_gives(admin_client):
    order = make_paid_order()
    data = {"action": "cancel_with_refund", "_selected_action": [order.pk]}

    asked = admin_client.post(CHANGELIST, data)
    admin_client.post(CHANGELIST, {**data, "apply": "1", "reason": "rang us", "why": "cheaper"})
    listed = admin_client.get(CHANGELIST, {"cancel_reason__exact": "cheaper"})

    assert "The shopper&#x27;s reason" in asked.content.decode()
    assert reason_of(order.pk) == "cheaper"
    assert order.number[6:] in listed.content.decode()


REPORT = "/admin/orders/order/cancellations/"


def test_the_report_shows_the_cancellation_rate_and_why(admin_client, settings):
    shop = make_shop(units=30)
    cheaper, unpaid, quiet = place(shop), place(shop), place(shop)
    make_paid_order(shop)
    cancellation.cancel_order(
        order_id=cheaper.order_id, actor=ACTOR, reason="", by_shopper=True, why="cheaper"
    )
    cancellation.cancel_order(order_id=quiet.order_id, actor=ACTOR, reason="", by_shopper=True)
    cancellation.expire_unpaid_orders(now=clock.now() + timedelta(hours=1))

    page = admin_client.get(REPORT).content.decode()
    listing = admin_client.get(CHANGELIST).content.decode()
    before = admin_client.get(REPORT, {"start": "2020-01-01", "end": "2020-01-31"})

    assert reason_of(unpaid.order_id) == "not_paid"
    assert "4 orders placed" in page
    assert "3 cancelled (75.0 %)" in page
    assert '<svg class="report-chart"' in page
    assert "I found it cheaper elsewhere" in page
    assert "the shopper did not say".capitalize() in page
    assert "cancel_reason__exact=not_paid" in page
    assert 'href="/admin/orders/order/cancellations/"' in listing
    assert "No cancelled orders in this period." in before.content.decode()


def test_apps_read_the_reasons_to_offer_in_their_shoppers_language():
    english = Client().get("/api/v1/orders/cancel-reasons", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = Client().get("/api/v1/orders/cancel-reasons", HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    assert [r["code"] for r in english] == [
        "changed_mind", "wrong_items", "wrong_details", "cheaper", "too_slow",
        "payment_trouble", "other",
    ]  # fmt: skip
    assert english[3]["label"] == "I found it cheaper elsewhere"
    assert chinese[3]["label"] == "其他地方更便宜"


def test_the_cancelled_webhook_says_why_and_carries_the_note(settings):
    WebhookSubscription.objects.create(
        name="CRM", url="https://crm.example.cn/hooks", secret="s", topics=["order.cancelled"]
    )
    placed = place(make_shop())
    Order.objects.filter(pk=placed.order_id).update(shopper_note="送货前请电话联系")

    cancellation.cancel_order(
        order_id=placed.order_id, actor=ACTOR, reason="", by_shopper=True, why="too_slow"
    )

    [hook] = OutboxMessage.objects.filter(topic="order.cancelled").exclude(kind="email")
    assert hook.payload["data"]["cancel_reason"] == "too_slow"
    assert hook.payload["data"]["note"] == "送货前请电话联系"


def test_the_shopper_sees_their_own_reason_and_apps_read_any(client):
    shop = make_shop(units=20)
    theirs, unpaid = place(shop), place(shop)
    cancellation.cancel_order(
        order_id=theirs.order_id, actor=ACTOR, reason="", by_shopper=True, why="wrong_details"
    )
    cancellation.expire_unpaid_orders(now=clock.now() + timedelta(hours=1))

    def page(placed):
        url = f"/orders/{placed.number}/?token={placed.guest_token}"
        return client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    def api(placed):
        url = f"/api/v1/orders/{placed.number}?token={placed.guest_token}"
        return client.get(url).json()["cancel_reason"]

    assert "Your reason: The address or contact details are wrong" in page(theirs)
    assert "Your reason" not in page(unpaid)
    assert (api(theirs), api(unpaid)) == ("wrong_details", "not_paid")


def test_the_report_exports_its_table_as_csv(admin_client):
    shop = make_shop(units=20)
    placed = place(shop)
    place(shop)
    cancellation.cancel_order(
        order_id=placed.order_id, actor=ACTOR, reason="", by_shopper=True, why="cheaper"
    )

    response = admin_client.get(REPORT, {"export": "csv"})

    text = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert text.splitlines() == [
        "reason,label,orders,share_of_cancellations",
        "cheaper,I found it cheaper elsewhere,1,100.0",
        "TOTAL,,1,100.0",
        "PLACED,,2,50.0",
    ]


def test_the_apis_reasons_are_the_shoppers_reasons():
    assert get_args(ShopperCancelReason) == tuple(r.value for r in SHOPPER_CANCEL_REASONS)
