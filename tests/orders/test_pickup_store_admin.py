"""Customer service moves a pick-up to another store in the back office: for a shopper who
calls, or for an order its store refused; the shopper's own rules, the staff member as the
actor."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client, TestCase
from django.urls import reverse

from omnimall.core.models import AuditEntry
from omnimall.core.roles import CUSTOMER_SERVICE
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders.models import Order, OrderEvent
from tests.orders.factories import ACTOR, make_shop, pay, place, request_ids
from tests.orders.test_pickup_store import another_store
from tests.orders.test_readdress_admin import page_url, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def shop():
    return make_shop(units=20)


def form_url(order: Order) -> str:
    return reverse("admin:orders_order_store", args=[order.pk])


def test_customer_service_moves_a_refused_pick_up_to_a_store_that_holds_it(shop):
    west = another_store(shop)
    another_store(shop, units=1, code="o-st-short")
    order = pay(place(shop, method="pickup").order_id)
    for request_id in request_ids(order):
        with TestCase.captureOnCommitCallbacks(execute=True):
            inventory_fulfilment.reject_fulfilment_request(
                request_id=request_id, reason="damaged", actor=ACTOR
            )
    client, agent = staff_client(CUSTOMER_SERVICE)

    page = client.get(page_url(order)).content.decode()
    form = client.get(form_url(order)).content.decode()
    done = client.post(form_url(order), {"store": west.code}, follow=True)

    assert f'href="{form_url(order)}"' in page
    assert "8 West Nanjing Road" in form
    assert "o-st-short" not in form
    assert done.redirect_chain[-1][0] == page_url(order)
    assert "picked up at the new store" in done.content.decode()
    order.refresh_from_db()
    assert order.pickup_store_id == west.pk
    assert not order.needs_attention
    event = OrderEvent.objects.get(order=order, data__after=west.code)
    assert event.actor_label == agent.get_username()
    assert AuditEntry.objects.get(action="order.pickup_store_changed").actor_user_id == agent.pk


def test_a_store_not_offered_is_refused_on_the_form(shop):
    another_store(shop)
    order = pay(place(shop, method="pickup").order_id)
    client, _ = staff_client(CUSTOMER_SERVICE)

    refused = client.post(form_url(order), {"store": shop.warehouse.code})

    assert refused.status_code == 200
    assert "errorlist" in refused.content.decode()
    assert Order.objects.get(pk=order.pk).pickup_store_id == shop.store.pk


def test_a_delivery_offers_no_store_change_and_the_page_says_why(shop):
    order = pay(place(shop).order_id)
    client, _ = staff_client(CUSTOMER_SERVICE)

    page = client.get(page_url(order)).content.decode()
    refused = client.post(form_url(order), {"store": shop.store.code}, follow=True)

    assert form_url(order) not in page
    assert refused.redirect_chain[-1][0] == page_url(order)
    assert "can no longer change" in refused.content.decode()


def test_staff_who_may_only_read_orders_cannot_move_it(shop):
    west = another_store(shop)
    order = pay(place(shop, method="pickup").order_id)
    user = get_user_model().objects.create_user(
        username="reader", password="pw-123456!", is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = Client()
    client.force_login(user)

    page = client.get(page_url(order)).content.decode()
    refused = client.post(form_url(order), {"store": west.code})

    assert form_url(order) not in page
    assert refused.status_code == 403
    assert Order.objects.get(pk=order.pk).pickup_store_id == shop.store.pk
