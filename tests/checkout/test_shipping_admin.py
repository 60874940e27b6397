"""Shipping zones in the back office: logistics edits them (audited), a province in two
zones is a form error, customer service only looks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from omnimall.checkout import selectors
from omnimall.checkout.models import ShippingZone, ShippingZoneProvince
from omnimall.core import roles
from omnimall.core.models import AuditEntry
from tests.catalog.test_admin import admin_form_data
from tests.checkout.conftest import make_zone as zone
from tests.inventory.test_admin_stock import staff_in

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:checkout_shippingzone_add")


@pytest.fixture
def logistics(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(staff_in(roles.LOGISTICS, "lena"))
    return client


def zone_form(**fields):
    data = {
        "name_zh": "西北",
        "name_en": "North-west",
        "provinces": ["GS", "NX"],
        "fee": "15.00",
        "free_from": "199.00",
        "delivers": "on",
        "change_reason": "",
    }
    data.update(fields)
    return data


def test_logistics_adds_a_zone_and_it_is_audited_and_priced_at_once(logistics):
    assert selectors.list_zones() == ()  # cached empty

    response = logistics.post(ADD_URL, zone_form(change_reason="courier rates 2027"))

    assert response.status_code == 302, response.content.decode()[:3000]
    added = ShippingZone.objects.get(name_zh="西北")
    assert sorted(added.provinces.values_list("province", flat=True)) == ["GS", "NX"]
    entry = AuditEntry.objects.get(action="shippingzone.created")
    assert (entry.actor_label, entry.reason) == ("lena", "courier rates 2027")
    assert entry.changes["provinces"] == [[], ["GS", "NX"]]
    (cached,) = selectors.list_zones()
    assert (cached.fee, cached.free_from, cached.provinces) == (
        Decimal("15.00"),
        Decimal("199.00"),
        frozenset({"GS", "NX"}),
    )


def test_a_province_already_in_another_zone_is_a_form_error(logistics):
    zone("偏远地区", ["XJ", "GS"])

    response = logistics.post(ADD_URL, zone_form(provinces=["GS", "NX"]))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["provinces"] == [
        "甘肃 is already in the zone “偏远地区”."
    ]
    assert not ShippingZone.objects.filter(name_zh="西北").exists()
    assert not AuditEntry.objects.filter(action="shippingzone.created", subject_repr="西北")


def test_logistics_changes_a_zones_provinces_and_empty_free_from_means_never_free(logistics):
    remote = zone("偏远地区", ["XJ", "GS"])
    url = reverse("admin:checkout_shippingzone_change", args=[remote.pk])
    page = logistics.get(url)

    response = logistics.post(
        url, admin_form_data(page, provinces=["XJ", "XZ"], free_from="", change_reason="")
    )

    assert page.status_code == 200
    assert 'value="GS"' in page.content.decode()
    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(ShippingZoneProvince.objects.values_list("province", flat=True)) == {"XJ", "XZ"}
    remote.refresh_from_db()
    assert remote.free_from is None
    changed = AuditEntry.objects.get(action="shippingzone.changed")
    assert changed.changes["provinces"] == [["GS", "XJ"], ["XZ", "XJ"]]


def test_saving_a_zone_unchanged_writes_no_audit_entry(logistics):
    remote = zone("偏远地区", ["XJ"])
    url = reverse("admin:checkout_shippingzone_change", args=[remote.pk])

    response = logistics.post(url, admin_form_data(logistics.get(url)))

    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action="shippingzone.changed").exists()


def test_logistics_deletes_a_zone_and_it_is_audited(logistics):
    remote = zone("偏远地区", ["XJ"])

    response = logistics.post(
        reverse("admin:checkout_shippingzone_delete", args=[remote.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not ShippingZone.objects.exists()
    assert AuditEntry.objects.get(action="shippingzone.deleted").changes["provinces"] == [
        ["XJ"],
        None,
    ]
    assert selectors.list_zones() == ()


def test_customer_service_sees_the_zones_but_cannot_change_them(client):
    remote = zone("偏远地区", ["XJ"])
    client.force_login(staff_in(roles.CUSTOMER_SERVICE, "chen"))

    listing = client.get(reverse("admin:checkout_shippingzone_changelist"))
    change = client.post(
        reverse("admin:checkout_shippingzone_change", args=[remote.pk]),
        zone_form(name_zh="偏远地区", provinces=["XJ"], fee="0"),
    )
    add = client.get(ADD_URL)

    assert listing.status_code == 200
    assert "新疆" in listing.content.decode()
    assert change.status_code == 403
    assert add.status_code == 403
    assert ShippingZone.objects.get().fee == Decimal("20.00")


def test_merchandisers_do_not_see_shipping_zones(client):
    client.force_login(staff_in(roles.MERCHANDISER, "mia"))

    assert client.get(reverse("admin:checkout_shippingzone_changelist")).status_code == 403
