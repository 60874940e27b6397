"""The usual delivery time (预计送达): set per shipping zone in the back office and for the
default rate in settings, shown at checkout, on the delivery help page and in the Store API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from omnimall import settings as omnimall_settings
from omnimall.checkout import selectors
from omnimall.checkout.errors import InvalidShippingZoneError
from omnimall.checkout.models import ShippingZone
from omnimall.core.models import AuditEntry, OutboxMessage
from omnimall.orders.services import fulfilment
from tests.checkout.conftest import make_zone
from tests.checkout.test_pages import HX, add, checkout_form
from tests.checkout.test_shipping_admin import ADD_URL, logistics, zone_form  # noqa: F401
from tests.orders.factories import ACTOR, make_shipped_order
from tests.orders.factories import make_shop as make_order_shop

pytestmark = pytest.mark.django_db


def summary(client, **fields) -> str:
    return client.post("/checkout/", checkout_form(action="quote", **fields), **HX).content.decode()


def test_checkout_says_how_long_delivery_to_the_province_usually_takes(shop, client, settings):
    settings.SHIPPING_DAYS = (2, 4)
    make_zone("偏远地区", ["XJ", "XZ"], name_en="Remote regions", days_min=4, days_max=7)
    make_zone("海南", ["HI"], fee="15.00", free_from=None, days_min=3, days_max=3)
    add(client, shop.tee_s, 1)

    remote = summary(client, province="新疆")
    hainan = summary(client, province="海南省")
    usual = summary(client, province="浙江省")
    pickup = summary(client, delivery_method="pickup", store="sh-1")
    settings.SHIPPING_DAYS = None
    unsaid = summary(client, province="浙江省")

    assert "Usually delivered in 4–7 days" in remote
    assert "Usually delivered in 3 days" in hainan
    assert "Usually delivered in 2–4 days" in usual
    assert "Usually delivered" not in pickup
    assert "Usually delivered" not in unsaid


def test_a_zone_not_delivered_to_says_no_time(shop, client):
    make_zone("港澳台", ["HK"], fee="0.00", free_from=None, delivers=False, days_min=5, days_max=9)
    add(client, shop.tee_s, 1)

    assert "Usually delivered" not in summary(client, province="香港")


def test_logistics_sets_a_zones_delivery_time_and_it_is_audited(logistics):  # noqa: F811
    response = logistics.post(ADD_URL, zone_form(days_min="3", days_max="5"))

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(action="shippingzone.created")
    assert (entry.changes["days_min"][1], entry.changes["days_max"][1]) == (3, 5)
    (cached,) = selectors.list_zones()
    assert cached.days == (3, 5)
    listing = logistics.get(reverse("admin:checkout_shippingzone_changelist")).content.decode()
    assert "3–5" in listing


@pytest.mark.parametrize(("fewest", "most"), [("3", ""), ("", "5"), ("6", "2"), ("0", "2")])
def test_half_or_backwards_delivery_times_are_form_errors(logistics, fewest, most):  # noqa: F811
    response = logistics.post(ADD_URL, zone_form(days_min=fewest, days_max=most))

    assert response.status_code == 200
    assert "Give both numbers of days" in response.content.decode()
    assert not ShippingZone.objects.exists()


def test_the_service_refuses_a_bad_delivery_time_too(shop):
    with pytest.raises(InvalidShippingZoneError) as refused:
        make_zone("西北", ["GS"], days_min=5, days_max=None)

    assert "days" in refused.value.details["errors"]
    assert not ShippingZone.objects.exists()


@pytest.mark.parametrize(
    ("raw", "days"), [("2-4", (2, 4)), (" 3 ", (3, 3)), ("", None), ("1-1", (1, 1))]
)
def test_the_default_rates_delivery_time_is_read_from_the_environment(monkeypatch, raw, days):
    monkeypatch.setenv("OMNIMALL_SHIPPING_DAYS", raw)

    assert omnimall_settings._env_days("OMNIMALL_SHIPPING_DAYS", "2-4") == days


@pytest.mark.parametrize("raw", ["soon", "4-2", "0-3", "2-"])
def test_a_mistyped_delivery_time_stops_the_start_up(monkeypatch, raw):
    monkeypatch.setenv("OMNIMALL_SHIPPING_DAYS", raw)

    with pytest.raises(ImproperlyConfigured):
        omnimall_settings._env_days("OMNIMALL_SHIPPING_DAYS", "2-4")


def test_a_parcel_on_its_way_says_when_it_usually_arrives(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.SHIPPING_DAYS = (2, 4)
    order = make_shipped_order(make_order_shop())
    url = f"/api/v1/orders/{order.number}?token={order.guest_token}"

    [parcel] = Client().get(url).json()["shipments"]
    page = (
        Client()
        .get(f"/orders/{order.number}/?token={order.guest_token}", HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    settings.SHIPPING_DAYS = None
    [unsaid] = Client().get(url).json()["shipments"]
    settings.SHIPPING_DAYS = (2, 4)
    fulfilment.confirm_delivery(order_id=order.pk, actor=ACTOR)
    [arrived] = Client().get(url).json()["shipments"]

    shipped_on = timezone.localdate()
    assert parcel["expected_from"] == str(shipped_on + timedelta(days=2))
    assert parcel["expected_to"] == str(shipped_on + timedelta(days=4))
    assert "Usually arrives between" in page
    email = OutboxMessage.objects.get(kind="email", topic="order.shipped").payload["body"]
    assert f"Usually arrives between {parcel['expected_from']} and {parcel['expected_to']}" in email
    assert (unsaid["expected_from"], unsaid["expected_to"]) == (None, None)
    assert (arrived["expected_from"], arrived["expected_to"]) == (None, None)
