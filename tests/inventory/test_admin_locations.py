"""Locations with their staff, channel safety stock, fulfilment requests."""

from __future__ import annotations

import pytest
from django.urls import reverse

from omnimall.channels.models import SalesChannel
from omnimall.core import roles
from omnimall.core.models import AuditEntry
from omnimall.inventory import services
from omnimall.inventory.models import (
    ChannelSafetyStock,
    FulfilmentLine,
    FulfilmentRequest,
    Shipment,
    StockLocation,
)
from tests.catalog.test_admin import admin_form_data
from tests.inventory.test_admin_stock import english_fixture, net_fixture, staff_in  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def logistics(client):
    client.force_login(staff_in(roles.LOGISTICS, "lena"))
    return client


# --- locations and who works there ----------------------------------------------------


def test_logistics_assigns_staff_to_a_store_and_it_is_audited(logistics, net):
    sam = staff_in(roles.STORE_STAFF, "sam")
    url = reverse("admin:inventory_stocklocation_change", args=[net["a"].pk])

    response = logistics.post(
        url, admin_form_data(logistics.get(url), staff=[str(sam.pk)], change_reason="new hire")
    )

    assert response.status_code == 302
    assert list(net["a"].staff.values_list("username", flat=True)) == ["sam"]
    entry = AuditEntry.objects.get(action="stocklocation.staff_changed")
    assert entry.changes == {"staff": [[], ["sam"]]}
    assert (entry.actor_label, entry.reason) == ("lena", "new hire")


def test_logistics_adds_a_store_and_it_is_audited(logistics):
    response = logistics.post(
        reverse("admin:inventory_stocklocation_add"),
        {
            "code": "st-new",
            "name_en": "New store",
            "name_zh": "新店",
            "kind": "store",
            "city": "Hangzhou",
            "priority": "100",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert StockLocation.objects.filter(code="st-new").exists()
    assert AuditEntry.objects.filter(action="stocklocation.created", actor_label="lena").exists()


def test_store_staff_sees_only_their_store_and_cannot_edit_it(client, net):
    client.force_login(staff_in(roles.STORE_STAFF, "sam", stores=[net["a"]]))
    url = reverse("admin:inventory_stocklocation_change", args=[net["a"].pk])

    listing = client.get(reverse("admin:inventory_stocklocation_changelist")).content.decode()
    edit = client.post(url, {"code": "st-a", "priority": "1"})

    assert "st-a" in listing
    assert "st-b" not in listing
    assert edit.status_code == 403


# --- channel safety stock -------------------------------------------------------------


def test_logistics_sets_channel_safety_stock_through_the_service(logistics, net):
    online = SalesChannel.objects.get(code="online")
    add = reverse("admin:inventory_channelsafetystock_add")

    created = logistics.post(add, {"channel": online.pk, "location": net["a"].pk, "units": "2"})
    rule = ChannelSafetyStock.objects.get()
    url = reverse("admin:inventory_channelsafetystock_change", args=[rule.pk])
    changed = logistics.post(url, admin_form_data(logistics.get(url), units="3"))

    assert created.status_code == 302
    assert changed.status_code == 302
    rule.refresh_from_db()
    assert (rule.channel_id, rule.location_id, rule.units) == (online.pk, net["a"].pk, 3)
    entries = AuditEntry.objects.filter(action="stock.channel_safety_stock_set")
    assert [e.changes["units"] for e in entries.order_by("pk")] == [[None, 2], [2, 3]]
    assert {e.actor_label for e in entries} == {"lena"}


def test_store_staff_cannot_change_channel_safety_stock(client, net):
    client.force_login(staff_in(roles.STORE_STAFF, "sam", stores=[net["a"]]))
    online = SalesChannel.objects.get(code="online")

    response = client.post(
        reverse("admin:inventory_channelsafetystock_add"),
        {"channel": online.pk, "location": net["a"].pk, "units": "2"},
    )

    assert response.status_code == 403
    assert not ChannelSafetyStock.objects.exists()


# --- fulfilment requests --------------------------------------------------------------


def make_request(location, sku, number):
    request = FulfilmentRequest.objects.create(
        number=number, location=location, reference=f"ORD-{number}"
    )
    shipment = Shipment.objects.create(
        request=request, carrier="SF", tracking_number=f"SF{number}", shipped_at="2026-01-02T10:00Z"
    )
    FulfilmentLine.objects.create(request=request, sku=sku, quantity=1, shipment=shipment)
    FulfilmentLine.objects.create(request=request, sku=sku, quantity=2)
    return request


def test_fulfilment_requests_are_listed_with_lines_and_shipments_read_only(
    logistics, net, django_assert_max_num_queries
):
    for n in range(20):
        make_request(net["wh"], net["tee"], f"FR-{n}")
    request = FulfilmentRequest.objects.get(number="FR-7")
    url = reverse("admin:inventory_fulfilmentrequest_change", args=[request.pk])

    with django_assert_max_num_queries(10):
        listing = logistics.get(reverse("admin:inventory_fulfilmentrequest_changelist"))
    detail = logistics.get(url).content.decode()
    edit = logistics.post(url, {"state": "shipped"})

    assert listing.content.decode().count('<td class="field-line_count">2</td>') == 20
    assert "SFFR-7" in detail
    assert net["tee"].code in detail
    assert edit.status_code == 403


def test_store_staff_sees_only_the_fulfilment_requests_of_their_store(client, net):
    make_request(net["a"], net["tee"], "FR-A")
    make_request(net["b"], net["tee"], "FR-B")
    client.force_login(staff_in(roles.STORE_STAFF, "sam", stores=[net["a"]]))

    listing = client.get(reverse("admin:inventory_fulfilmentrequest_changelist")).content.decode()

    assert "FR-A" in listing
    assert "FR-B" not in listing


def test_fulfilment_request_page_writes_the_recipient_and_the_hold_not_json_or_ids(logistics, net):
    reservation = services.reserve_stock(
        location_id=net["wh"].pk, sku_id=net["tee"].pk, quantity=1, owner_id="ORD-9"
    )
    request = FulfilmentRequest.objects.create(
        number="FR-9",
        location=net["wh"],
        reference="ORD-9",
        ship_to={"name": "Li Lei", "phone": "13800138000", "province": "上海市",
                 "city": "Shanghai", "district": "黄浦区", "street": "南京东路 1 号"},
    )  # fmt: skip
    FulfilmentLine.objects.create(
        request=request, sku=net["tee"], quantity=1, reservation=reservation
    )

    detail = logistics.get(
        reverse("admin:inventory_fulfilmentrequest_change", args=[request.pk])
    ).content.decode()

    assert "Li Lei 13800138000<br>上海市 Shanghai 黄浦区 南京东路 1 号" in detail
    assert "&quot;Li Lei&quot;" not in detail
    hold = reverse("admin:inventory_reservation_change", args=[reservation.pk])
    assert f'<a href="{hold}">held</a>' in detail
    assert "Reservation id" not in detail
    assert "State last changed:" in detail
    assert "Updated:" not in detail
