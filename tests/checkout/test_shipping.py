"""Shipping rates by province: zones saved by staff, the cart's estimate, checkout charging
the ship-to province's rate, refusing a region the shop does not deliver to, the cache."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from omnimall.checkout import selectors
from omnimall.checkout.errors import InvalidShippingZoneError, ProvinceInOtherZoneError
from omnimall.checkout.models import Cart, CartState, ShippingZone, ShippingZoneProvince
from omnimall.checkout.services import carts
from omnimall.checkout.services.shipping import delete_shipping_zone, save_shipping_zone
from omnimall.core.models import AuditEntry
from omnimall.inventory.models import Reservation
from omnimall.orders.models import Order
from omnimall.payments.models import Payment
from tests.checkout.conftest import ADDRESS, CONTACT, STAFF
from tests.checkout.conftest import make_zone as zone

pytestmark = pytest.mark.django_db

XINJIANG = {**ADDRESS, "province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区"}
HONG_KONG = {**ADDRESS, "province": "香港", "city": "香港", "district": "中西区"}


@pytest.fixture
def zones(shop):
    remote = zone("偏远地区", ["XJ", "XZ", "QH"], name_en="Remote regions", days_min=4, days_max=7)
    abroad = zone("港澳台", ["HK", "MO", "TW"], fee="0.00", free_from=None, delivers=False)
    return remote, abroad


def post(client, path, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def cart_with(client, *lines) -> str:
    token = post(client, "/api/v1/carts").json()["id"]
    for sku, quantity in lines:
        response = post(
            client, f"/api/v1/carts/{token}/lines", {"sku": sku.code, "quantity": quantity}
        )
        assert response.status_code == 201, response.content
    return token


def checkout(client, token, address=XINJIANG, method="ship", **body):
    return post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": CONTACT, "delivery_method": method, "address": address, **body},
    )


# --- the cart: an estimate until a province is known -------------------------------------


def test_cart_without_a_province_is_priced_at_the_default_rate_as_an_estimate(shop, zones, client):
    token = cart_with(client, (shop.tee_s, 1))

    body = client.get(f"/api/v1/carts/{token}").json()

    assert body["totals"]["shipping"] == "10.00"
    assert body["totals"]["shipping_estimated"] is True
    assert body["shipping_to"] is None


def test_cart_with_a_remote_province_is_priced_at_its_zones_rate(shop, zones, client):
    token = cart_with(client, (shop.tee_s, 3))  # 147: free by the default rate, not in 新疆

    body = client.get(f"/api/v1/carts/{token}?province=Xinjiang", HTTP_ACCEPT_LANGUAGE="en").json()

    assert body["totals"] == {
        "subtotal": "147.00",
        "shipping": "20.00",
        "total": "167.00",
        "item_count": 3,
        "shipping_estimated": False,
    }
    assert body["shipping_to"] == {
        "province": "XJ",
        "province_name": "Xinjiang",
        "zone": "Remote regions",
        "delivers": True,
        "days_min": 4,
        "days_max": 7,
    }


def test_cart_for_a_province_in_no_zone_is_the_default_rate_exactly(shop, zones, client, settings):
    settings.SHIPPING_DAYS = (2, 4)
    token = cart_with(client, (shop.tee_s, 1))

    body = client.get(f"/api/v1/carts/{token}?province=浙江省").json()

    assert body["totals"]["shipping"] == "10.00"
    assert body["totals"]["shipping_estimated"] is False
    assert body["shipping_to"]["zone"] == ""
    assert (body["shipping_to"]["days_min"], body["shipping_to"]["days_max"]) == (2, 4)  # settings
    assert body["shipping_to"]["delivers"] is True


def test_cart_says_when_the_shop_does_not_deliver_to_the_province(shop, zones, client):
    token = cart_with(client, (shop.tee_s, 1))

    body = client.get(f"/api/v1/carts/{token}?province=HK").json()

    assert body["shipping_to"]["delivers"] is False
    assert body["totals"]["shipping"] == "0.00"


def test_cart_with_an_unknown_province_is_422(shop, zones, client):
    token = cart_with(client, (shop.tee_s, 1))

    response = client.get(f"/api/v1/carts/{token}?province=Atlantis")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


# --- checkout: the zone's rate is charged, on the server --------------------------------


def test_checkout_in_a_remote_province_charges_the_zones_fee(shop, zones, client):
    token = cart_with(client, (shop.tee_s, 3))

    response = checkout(client, token)

    assert response.status_code == 201, response.content
    body = response.json()["order"]
    order = Order.objects.get(number=body["number"])
    assert (order.subtotal, order.shipping, order.total) == (
        Decimal("147.00"),
        Decimal("20.00"),
        Decimal("167.00"),
    )
    assert body["shipping"] == "20.00"
    assert body["total"] == body["amount_due"] == "167.00"
    assert Payment.objects.get(order=order).amount == Decimal("167.00")
    assert order.ship_to["province"] == "新疆维吾尔自治区"  # as the shopper wrote it


def test_checkout_in_a_remote_province_is_free_from_the_zones_threshold(shop, zones, client):
    token = cart_with(client, (shop.shirt_l, 1), (shop.tee_s, 1))  # 299 + 49

    response = checkout(client, token)

    assert response.status_code == 201, response.content
    assert Order.objects.get().shipping == 0


def test_checkout_elsewhere_keeps_the_default_rate(shop, zones, client):
    token = cart_with(client, (shop.tee_s, 1))

    response = checkout(client, token, address=ADDRESS)

    assert response.status_code == 201, response.content
    assert Order.objects.get().shipping == Decimal("10.00")


def test_checkout_to_a_region_not_delivered_is_422_and_writes_nothing(shop, zones, client):
    token = cart_with(client, (shop.tee_s, 1))
    audit_before = AuditEntry.objects.count()

    response = checkout(client, token, address=HONG_KONG)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "no_delivery_to_region"
    assert error["details"] == {"province": "香港", "zone": "港澳台"}
    assert not Order.objects.exists()
    assert not Reservation.objects.exists()
    assert not Payment.objects.exists()
    assert AuditEntry.objects.count() == audit_before
    assert Cart.objects.get(token=token).state == CartState.OPEN


def test_pickup_stays_free_whatever_the_zones(shop, zones, client):
    token = cart_with(client, (shop.tee_s, 1))

    response = checkout(client, token, address=None, method="pickup", store="sh-1")

    assert response.status_code == 201, response.content
    assert Order.objects.get().shipping == 0


def test_checkout_with_an_unknown_province_is_an_address_error(shop, zones, client):
    token = cart_with(client, (shop.tee_s, 1))

    response = checkout(client, token, address={**ADDRESS, "province": "Atlantis"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_checkout"
    assert set(error["details"]["errors"]) == {"address.province"}
    assert not Order.objects.exists()


def test_a_request_cannot_set_the_shipping(shop, zones, client):
    token = cart_with(client, (shop.tee_s, 1))

    response = checkout(client, token, shipping="0.00")

    assert response.status_code == 422
    assert not Order.objects.exists()


# --- the cache: no query once warm; a staff change applies at once -----------------------


def test_pricing_with_a_province_costs_no_query_more_once_the_zones_are_cached(shop, zones):
    cart = carts.create_cart(user=None)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=1)
    selectors.price_cart(cart, province="新疆")  # fills the cache

    with CaptureQueriesContext(connection) as estimate:
        selectors.price_cart(cart)
    with CaptureQueriesContext(connection) as exact:
        view = selectors.price_cart(cart, province="新疆")

    assert view.totals.shipping == Decimal("20.00")
    assert len(exact) == len(estimate)  # the zones' version comes with the lines


def test_a_staff_change_to_a_zone_applies_at_the_next_read(shop, zones):
    remote, _abroad = zones
    cart = carts.create_cart(user=None)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=1)
    assert selectors.price_cart(cart, province="新疆").totals.shipping == Decimal("20.00")

    remote.fee = Decimal("25.00")
    save_shipping_zone(zone=remote, provinces=["XJ", "XZ", "QH"], actor=STAFF)
    after_fee = selectors.price_cart(cart, province="新疆").totals.shipping
    save_shipping_zone(zone=remote, provinces=["XZ", "QH"], actor=STAFF)
    after_move = selectors.price_cart(cart, province="新疆").totals.shipping
    delete_shipping_zone(zone=ShippingZone.objects.get(name_zh="港澳台"), actor=STAFF)
    hong_kong = selectors.price_cart(cart, province="香港")

    assert after_fee == Decimal("25.00")
    assert after_move == Decimal("10.00")  # 新疆 left the zone: the default rate
    assert hong_kong.delivers is True
    assert hong_kong.totals.shipping == Decimal("10.00")


def test_a_change_that_rolls_back_leaves_the_cached_rates_as_they_were(shop, zones):
    remote, _abroad = zones
    assert [z.fee for z in selectors.list_zones()] == [Decimal("20.00"), Decimal("0.00")]

    remote.fee = Decimal("30.00")
    with pytest.raises(ProvinceInOtherZoneError):
        save_shipping_zone(zone=remote, provinces=["XJ", "HK"], actor=STAFF)

    assert [z.fee for z in selectors.list_zones()] == [Decimal("20.00"), Decimal("0.00")]
    assert ShippingZone.objects.get(pk=remote.pk).fee == Decimal("20.00")


# --- saving zones: one zone per province, audited ----------------------------------------


def test_a_province_in_another_zone_is_refused(shop, zones):
    with pytest.raises(ProvinceInOtherZoneError) as refused:
        zone("西北", ["GS", "XJ"])

    assert refused.value.details["provinces"] == {"XJ": "偏远地区"}
    assert refused.value.status == 422
    assert not ShippingZone.objects.filter(name_zh="西北").exists()


def test_the_database_refuses_a_province_in_two_zones(shop, zones):
    _remote, abroad = zones

    with pytest.raises(IntegrityError), transaction.atomic():
        ShippingZoneProvince.objects.create(zone=abroad, province="XJ")


@pytest.mark.parametrize(
    ("fields", "provinces", "field"),
    [
        ({"fee": Decimal("-1")}, ["GS"], "fee"),
        ({"free_from": Decimal("-5")}, ["GS"], "free_from"),
        ({"name_zh": " "}, ["GS"], "name_zh"),
        ({}, ["ZZ"], "provinces"),
    ],
)
def test_invalid_zones_are_refused(shop, fields, provinces, field):
    values = {"name_zh": "西北", "fee": Decimal("12"), "free_from": None, **fields}

    with pytest.raises(InvalidShippingZoneError) as refused:
        save_shipping_zone(zone=ShippingZone(**values), provinces=provinces, actor=STAFF)

    assert set(refused.value.details["errors"]) == {field}


def test_zone_changes_are_audited_with_their_provinces(shop, zones):
    remote, _abroad = zones
    created = AuditEntry.objects.get(action="shippingzone.created", subject_id=str(remote.pk))

    remote.free_from = None
    save_shipping_zone(zone=remote, provinces=["XJ", "XZ", "QH", "GS"], actor=STAFF, reason="r")
    save_shipping_zone(zone=remote, provinces=["GS", "XJ", "XZ", "QH"], actor=STAFF)  # same
    delete_shipping_zone(zone=remote, actor=STAFF)

    assert created.changes["provinces"] == [[], ["XZ", "QH", "XJ"]]
    changed = AuditEntry.objects.get(action="shippingzone.changed")
    assert changed.changes == {
        "free_from": ["299.00", None],
        "provinces": [["XZ", "QH", "XJ"], ["XZ", "GS", "QH", "XJ"]],
    }
    assert changed.reason == "r"
    deleted = AuditEntry.objects.get(action="shippingzone.deleted")
    assert deleted.changes["provinces"] == [["XZ", "GS", "QH", "XJ"], None]
    assert not ShippingZoneProvince.objects.filter(zone_id=remote.pk).exists()
