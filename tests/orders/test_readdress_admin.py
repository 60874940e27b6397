"""Customer service changes a delivery address in the back office, for a shopper who calls
before the order is taken on: the shopper's own rules, the staff member as the actor."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from omnimall.checkout.models import ShippingZone
from omnimall.checkout.services.shipping import save_shipping_zone
from omnimall.core.models import AuditEntry
from omnimall.core.roles import CUSTOMER_SERVICE, LOGISTICS
from omnimall.orders.models import Order, OrderEvent
from tests.orders.factories import ACTOR, make_shop, pay, place
from tests.orders.test_readdress import HANGZHOU

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def shop():
    return make_shop(units=20)


def staff_client(role: str) -> tuple[Client, object]:
    user = get_user_model().objects.create_user(
        username=f"{role}-1", password="pw-123456!", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client, user


def page_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def form_url(order: Order) -> str:
    return reverse("admin:orders_order_address", args=[order.pk])


def test_customer_service_changes_it_from_the_order_page(shop):
    order = pay(place(shop).order_id)
    client, agent = staff_client(CUSTOMER_SERVICE)

    page = client.get(page_url(order)).content.decode()
    form = client.get(form_url(order)).content.decode()
    done = client.post(form_url(order), HANGZHOU, follow=True)

    assert f'href="{form_url(order)}"' in page
    assert 'value="Shanghai"' in form  # the current address, to edit
    assert 'id="province-list"' in form  # the provinces offered as at checkout
    assert done.redirect_chain[-1][0] == page_url(order)
    assert "delivered to the new address" in done.content.decode()
    order.refresh_from_db()
    assert order.ship_to["city"] == "杭州市"
    assert order.ship_to["phone"] == "13900139000"
    event = OrderEvent.objects.filter(order=order).latest("pk")
    assert event.message == "delivery address changed to 杭州市 西湖区"
    assert event.actor_label == agent.get_username()
    entry = AuditEntry.objects.get(action="order.address_changed")
    assert entry.actor_user_id == agent.pk


def test_refusals_show_on_the_form_and_nothing_changes(shop):
    save_shipping_zone(
        zone=ShippingZone(name_zh="浙江", fee=Decimal("20.00"), free_from=None),
        provinces=["ZJ"],
        actor=ACTOR,
    )
    order = pay(place(shop).order_id)
    client, _ = staff_client(CUSTOMER_SERVICE)

    bad = client.post(form_url(order), {**HANGZHOU, "phone": "12"})
    differs = client.post(form_url(order), HANGZHOU)

    assert bad.status_code == 200
    assert "errorlist" in bad.content.decode()
    assert differs.status_code == 200
    body = differs.content.decode()
    assert "different fee" in body
    assert "charged: 0.00" in body
    assert "fee: 20.00" in body
    assert Order.objects.get(pk=order.pk).ship_to["city"] == "Shanghai"
    assert not AuditEntry.objects.filter(action="order.address_changed").exists()


def test_a_pick_up_order_offers_no_address_change_and_the_page_says_why(shop):
    order = Order.objects.get(pk=place(shop, method="pickup").order_id)
    client, _ = staff_client(CUSTOMER_SERVICE)

    page = client.get(page_url(order)).content.decode()
    refused = client.post(form_url(order), HANGZHOU, follow=True)

    assert form_url(order) not in page
    assert refused.redirect_chain[-1][0] == page_url(order)
    assert "can no longer change" in refused.content.decode()
    assert Order.objects.get(pk=order.pk).ship_to in (None, {})


def test_staff_who_may_only_read_orders_cannot_change_it(shop):
    order = pay(place(shop).order_id)
    user = get_user_model().objects.create_user(
        username="reader", password="pw-123456!", is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = Client()
    client.force_login(user)

    page = client.get(page_url(order)).content.decode()
    refused = client.post(form_url(order), HANGZHOU)

    assert form_url(order) not in page
    assert refused.status_code == 403
    assert Order.objects.get(pk=order.pk).ship_to["city"] == "Shanghai"


def _zhejiang_costs_20() -> None:
    save_shipping_zone(
        zone=ShippingZone(name_zh="浙江", fee=Decimal("20.00"), free_from=None),
        provinces=["ZJ"],
        actor=ACTOR,
    )


def test_customer_service_lets_the_shop_cover_a_dearer_delivery(shop):
    _zhejiang_costs_20()
    order = pay(place(shop).order_id)
    client, agent = staff_client(CUSTOMER_SERVICE)

    form = client.get(form_url(order)).content.decode()
    done = client.post(form_url(order), {**HANGZHOU, "shop_covers": "on"}, follow=True)

    assert 'name="shop_covers"' in form
    assert "delivered to the new address" in done.content.decode()
    order.refresh_from_db()
    assert order.ship_to["city"] == "杭州市"
    assert (order.shipping, order.amount_refunded) == (Decimal("0.00"), Decimal("0.00"))
    note = OrderEvent.objects.get(order=order, kind="note")
    assert note.message == (
        "The shop covers 20.00 CNY of delivery: the new address costs 20.00, the shopper paid 0.00."
    )
    assert agent.username in note.actor_label
    entry = AuditEntry.objects.get(action="order.address_changed")
    assert entry.changes["delivery_fee_covered"] == "20.00"


def test_staff_who_may_not_give_money_back_cannot_let_the_shop_cover_it(shop):
    _zhejiang_costs_20()
    order = pay(place(shop).order_id)
    client, _ = staff_client(LOGISTICS)

    form = client.get(form_url(order)).content.decode()
    refused = client.post(form_url(order), {**HANGZHOU, "shop_covers": "on"})

    assert 'name="shop_covers"' not in form
    assert "different fee" in refused.content.decode()
    assert Order.objects.get(pk=order.pk).ship_to["city"] == "Shanghai"
