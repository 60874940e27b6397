"""Someone else collects a pick-up (``services.collector``): named on the order page, in the
Store API or the back office; texted the code when it is ready; shown at the pick-up desk;
and every refusal leaving everything as it was."""

from __future__ import annotations

import json

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from omnimall.core.models import AuditEntry, OutboxMessage, WebhookSubscription
from omnimall.core.roles import CUSTOMER_SERVICE
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders.errors import CollectorNotSettableError, InvalidCollectorError
from omnimall.orders.models import Order, OrderEvent
from omnimall.orders.services import collect_by, collector, pickup
from tests.orders.factories import (
    ACTOR,
    make_paid_order,
    make_ready_pickup,
    make_shipped_order,
    make_shop,
    request_ids,
)
from tests.orders.test_readdress_admin import page_url, staff_client

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LEI = {"name": "李雷", "phone": "139 0013 9000"}


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.ORDER_TEXT_MESSAGES = ["ready_for_pickup", "pickup_collector"]


@pytest.fixture
def shop():
    return make_shop(units=20)


def texts_to(phone: str) -> list[OutboxMessage]:
    return [
        m
        for m in OutboxMessage.objects.filter(kind="sms").order_by("pk")
        if phone in str(m.destination)
    ]


def put_aside(order: Order) -> Order:
    for request_id in request_ids(order):
        with TestCase.captureOnCommitCallbacks(execute=True):
            inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)
    return Order.objects.get(pk=order.pk)


def test_named_before_it_is_ready_the_collector_gets_the_code_when_it_is(shop):
    order = make_paid_order(shop, method="pickup")

    named = collector.set_collector(order_id=order.pk, **LEI, actor=ACTOR)
    before_ready = texts_to("13900139000")
    ready = put_aside(named)

    assert (named.collector_name, named.collector_phone) == ("李雷", "13900139000")
    assert before_ready == []
    [text] = texts_to("13900139000")
    body = text.payload["text"]
    assert ready.pickup_code in body
    assert collect_by.local_deadline(ready.collect_by) in body
    assert order.contact_name in body
    # The shopper still gets their own "ready" text: either of them may collect it.
    assert OutboxMessage.objects.filter(kind="sms", topic="order.ready_for_pickup").count() == 1
    event = OrderEvent.objects.get(order=order, data__collector__isnull=False)
    assert event.message == "to be collected by 李雷 (139****9000)"
    assert AuditEntry.objects.filter(action="order.collector_set").count() == 1


def test_named_once_it_is_ready_the_collector_is_texted_at_once_and_only_once(shop):
    order = make_ready_pickup(shop)

    collector.set_collector(order_id=order.pk, **LEI, actor=ACTOR)
    collector.set_collector(order_id=order.pk, **LEI, actor=ACTOR)  # the same: nothing new

    assert len(texts_to("13900139000")) == 1
    assert OrderEvent.objects.filter(order=order, data__collector__isnull=False).count() == 1


def test_kept_longer_the_collector_hears_the_new_date(shop):
    order = make_ready_pickup(shop)
    collector.set_collector(order_id=order.pk, **LEI, actor=ACTOR)

    kept = collect_by.keep_longer(order_id=order.pk, actor=ACTOR)

    first, second = texts_to("13900139000")
    assert collect_by.local_deadline(kept.collect_by) in second.payload["text"]
    assert first.payload["text"] != second.payload["text"]


def test_the_shopper_takes_it_back_and_nobody_else_is_expected(shop):
    WebhookSubscription.objects.create(
        name="POS", url="https://pos.example.cn/hooks", secret="s", topics=["*"]
    )
    order = make_ready_pickup(shop)
    collector.set_collector(order_id=order.pk, **LEI, actor=ACTOR)

    cleared = collector.clear_collector(order_id=order.pk, actor=ACTOR)
    again = collector.clear_collector(order_id=order.pk, actor=ACTOR)

    assert (cleared.collector_name, cleared.collector_phone) == ("", "")
    assert again.collector_name == ""
    assert AuditEntry.objects.filter(action="order.collector_cleared").count() == 1
    # The store's system hears whom to expect, then that nobody else comes.
    hooks = OutboxMessage.objects.filter(kind="webhook", topic="order.collector_changed")
    assert [m.payload["data"]["collector"] for m in hooks.order_by("pk")] == [
        {"name": "李雷", "phone": "13900139000"},
        None,
    ]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"name": "", "phone": "13900139000"}, "name"),
        ({"name": "李雷", "phone": "021-63210000"}, "phone"),  # a landline gets no text
        ({"name": "x" * 61, "phone": "13900139000"}, "name"),
        ({"name": "Li\x00Lei", "phone": "13900139000"}, "name"),
    ],
)
def test_bad_names_and_numbers_are_refused_per_field(shop, given, field):
    order = make_paid_order(shop, method="pickup")

    with pytest.raises(InvalidCollectorError) as refused:
        collector.set_collector(order_id=order.pk, actor=ACTOR, **given)

    assert field in refused.value.details["errors"]
    assert Order.objects.get(pk=order.pk).collector_name == ""


def test_a_delivery_or_a_pick_up_already_handed_over_takes_no_collector(shop):
    shipped = make_shipped_order(shop)
    handed = make_ready_pickup(shop)
    pickup.hand_over(store_id=shop.store.pk, code=handed.pickup_code, actor=ACTOR)

    for order in (shipped, handed):
        with pytest.raises(CollectorNotSettableError):
            collector.set_collector(order_id=order.pk, **LEI, actor=ACTOR)
        assert Order.objects.get(pk=order.pk).collector_name == ""


# --- the order page, the Store API, the back office and the pick-up desk ---------------


def test_a_guest_names_a_collector_on_the_order_page(client, shop):
    order = make_paid_order(shop, method="pickup")
    detail = f"/orders/{order.number}/?token={order.guest_token}"
    url = f"/orders/{order.number}/collector/?token={order.guest_token}"

    page = client.get(detail, **EN).content.decode()
    bad = client.post(url, {"name": "李雷", "phone": "12345"}, **EN)
    done = client.post(url, LEI, **EN, follow=True)
    removed = client.post(url, {"action": "remove"}, **EN, follow=True)

    assert f'href="{url}"' in page
    assert "Someone else collects it" in page
    assert bad.status_code == 422
    assert "mainland mobile" in bad.content.decode()
    assert "Collected by 李雷 (13900139000)" in done.content.decode()
    assert "You will collect the order yourself." in removed.content.decode()
    assert Order.objects.get(pk=order.pk).collector_name == ""


def test_the_store_api_names_and_removes_a_collector(shop):
    order = make_paid_order(shop, method="pickup")
    client = Client()
    url = f"/api/v1/orders/{order.number}/collector"

    named = client.post(
        url, data=json.dumps({"token": order.guest_token, **LEI}), content_type="application/json"
    )
    bad = client.post(
        url,
        data=json.dumps({"token": order.guest_token, "name": "李雷", "phone": "abc"}),
        content_type="application/json",
    )
    removed = client.post(
        f"{url}/remove",
        data=json.dumps({"token": order.guest_token}),
        content_type="application/json",
    )
    stranger = client.post(
        url, data=json.dumps({"token": "not-it", **LEI}), content_type="application/json"
    )

    assert named.status_code == 200
    assert named.json()["collector"] == {"name": "李雷", "phone": "13900139000"}
    assert named.json()["can_set_collector"] is True
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_collector"
    assert removed.status_code == 200
    assert removed.json()["collector"] is None
    assert stranger.status_code == 404


def test_customer_service_names_one_and_the_pick_up_desk_expects_them(shop):
    order = make_ready_pickup(shop)
    client, _agent = staff_client(CUSTOMER_SERVICE)
    url = reverse("admin:orders_order_collector", args=[order.pk])

    page = client.get(page_url(order)).content.decode()
    done = client.post(url, LEI, follow=True)
    desk = client.get(reverse("admin:orders_pickup_desk"), {"code": order.pickup_code})

    assert f'href="{url}"' in page
    assert "The pick-up desk will expect them" in done.content.decode()
    assert "李雷 (13900139000)" in desk.content.decode()
    assert len(texts_to("13900139000")) == 1
