"""Customer service refunds part of an order in the back office (goodwill: a damaged item
the shopper keeps, a late parcel): through the gateway, once however often the form is
sent, never more than is left, and only with ``orders.refund_order``."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from omnimall.core.models import AuditEntry, OutboxMessage
from omnimall.core.roles import CUSTOMER_SERVICE, LOGISTICS
from omnimall.orders import domain
from omnimall.orders.models import Order, OrderEvent
from omnimall.orders.services.fulfilment import confirm_delivery
from omnimall.payments.models import EntryKind, PaymentEntry
from tests.orders.factories import ACTOR, make_shop, pay, place, ship_all
from tests.orders.test_readdress_admin import page_url, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def order():
    return pay(place(make_shop(units=20)).order_id)  # 179.70 paid


def form_url(order: Order) -> str:
    return reverse("admin:orders_order_refund", args=[order.pk])


def refund_no_on(form_page: str) -> str:
    found = re.search(r'name="refund_no" value="([^"]+)"', form_page)
    assert found, "the form carries its refund number"
    return found.group(1)


def test_customer_service_refunds_part_of_a_delivered_order(order):
    order = ship_all(order)
    client, agent = staff_client(CUSTOMER_SERVICE)

    page = client.get(page_url(order)).content.decode()
    form = client.get(form_url(order)).content.decode()
    number = refund_no_on(form)
    body = {"amount": "30.00", "reason": "the sleeve was torn", "refund_no": number}
    done = client.post(form_url(order), body, follow=True)
    again = client.post(form_url(order), body, follow=True)  # sent twice: refunded once

    assert f'href="{form_url(order)}"' in page
    assert "Up to 179.70 CNY" in form
    assert "on its way to the shopper" in done.content.decode()
    assert again.status_code == 200
    order.refresh_from_db()
    assert order.amount_refunded == Decimal("30.00")
    entries = PaymentEntry.objects.filter(payment__order=order, kind=EntryKind.REFUND)
    assert [entry.amount for entry in entries] == [Decimal("-30.00")]
    event = OrderEvent.objects.get(order=order, kind="refund")
    assert event.data["refund_no"] == number
    assert event.actor_label == agent.get_username()
    assert AuditEntry.objects.filter(action="order.refunded").count() == 1
    assert OutboxMessage.objects.filter(kind="email", topic="order.refunded").count() == 1


def test_a_refund_after_delivery_makes_the_order_partly_refunded(order):
    order = ship_all(order)
    confirm_delivery(order_id=order.pk, actor=ACTOR)
    client, _ = staff_client(CUSTOMER_SERVICE)
    number = refund_no_on(client.get(form_url(order)).content.decode())

    client.post(form_url(order), {"amount": "10", "reason": "late", "refund_no": number})

    assert Order.objects.get(pk=order.pk).state == domain.PARTLY_REFUNDED


def test_more_than_is_left_or_no_reason_is_refused_on_the_form(order):
    client, _ = staff_client(CUSTOMER_SERVICE)
    number = refund_no_on(client.get(form_url(order)).content.decode())

    too_much = client.post(
        form_url(order), {"amount": "179.71", "reason": "x", "refund_no": number}
    )
    no_reason = client.post(form_url(order), {"amount": "5", "reason": "", "refund_no": number})
    negative = client.post(form_url(order), {"amount": "-5", "reason": "x", "refund_no": number})

    for refused in (too_much, no_reason, negative):
        assert refused.status_code == 200
        assert "errorlist" in refused.content.decode()
    assert Order.objects.get(pk=order.pk).amount_refunded == 0


def test_staff_without_the_refund_right_get_no_link_and_a_403(order):
    client, _ = staff_client(LOGISTICS)  # may change orders (ship them), not refund them

    page = client.get(page_url(order))
    refused = client.post(form_url(order), {"amount": "5", "reason": "x", "refund_no": "n-1"})

    assert page.status_code == 200
    assert form_url(order) not in page.content.decode()
    assert refused.status_code == 403
    assert Order.objects.get(pk=order.pk).amount_refunded == 0


def test_an_unpaid_order_has_nothing_to_refund(order):
    unpaid = Order.objects.get(pk=place(make_shop(units=5)).order_id)
    client, _ = staff_client(CUSTOMER_SERVICE)

    refused = client.get(form_url(unpaid), follow=True)

    assert "Nothing is left to refund" in refused.content.decode()
