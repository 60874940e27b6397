"""The stock pages name a level by its SKU code and location name, never by row ids."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from omnimall.core import roles
from omnimall.core.models import AuditEntry
from omnimall.inventory import services
from omnimall.inventory.models import StockMovement
from tests.inventory.factories import STOCK_ACTOR, level_of
from tests.inventory.test_admin_stock import (  # noqa: F401 - fixtures
    english_fixture,
    net_fixture,
    staff_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(name="logistics")
def logistics_fixture(client):
    client.force_login(staff_in(roles.LOGISTICS, "lena"))
    return client


def breadcrumbs(response) -> str:
    html = response.content.decode()
    return re.search(r'<div class="breadcrumbs">(.*?)</div>', html, re.S)[1]


def title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)[1]


def raw(level) -> str:
    """What the model's ``__str__`` shows: ``<sku id>@<location id>: …``."""
    return f"{level.sku_id}@{level.location_id}"


def test_level_page_names_sku_and_location_in_breadcrumbs_and_title(logistics, net):
    level = level_of(net["a"], net["tee"])

    response = logistics.get(reverse("admin:inventory_stocklevel_change", args=[level.pk]))

    label = f"{net['tee'].code} @ Location st-a"
    assert response.status_code == 200
    assert label in breadcrumbs(response)
    assert label in title(response)
    assert raw(level) not in response.content.decode()
    assert "Counters last changed:" in response.content.decode()
    assert "Updated:" not in response.content.decode()


@pytest.mark.parametrize(
    "page", ["inventory_stocklevel_safety_stock", "inventory_stocklevel_flash_sale"]
)
def test_level_work_pages_name_the_level_in_their_breadcrumbs(logistics, net, page):
    level = level_of(net["a"], net["tee"])

    response = logistics.get(reverse(f"admin:{page}", args=[level.pk]))

    assert response.status_code == 200
    assert f"{net['tee'].code} @ Location st-a" in breadcrumbs(response)
    assert raw(level) not in response.content.decode()


def test_level_page_in_chinese_names_the_location_in_chinese(logistics, net):
    level = level_of(net["a"], net["tee"])

    response = logistics.get(
        reverse("admin:inventory_stocklevel_change", args=[level.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert f"{net['tee'].code} @ 仓库st-a" in breadcrumbs(response)


def test_level_history_opens_its_movements_when_staff_ask_for_it(logistics, net):
    level = level_of(net["a"], net["tee"])

    response = logistics.get(reverse("admin:inventory_stocklevel_history", args=[level.pk]))

    assert response.status_code == 302
    assert response["Location"].endswith(f"?level={level.pk}")


def test_level_history_of_another_store_is_not_found_for_store_staff(client, net):
    client.force_login(staff_in(roles.STORE_STAFF, "sam", stores=[net["a"]]))
    elsewhere = level_of(net["b"], net["tee"])

    response = client.get(reverse("admin:inventory_stocklevel_history", args=[elsewhere.pk]))

    assert response.status_code == 302
    assert f"?level={elsewhere.pk}" not in response["Location"]


def test_movement_page_names_its_level_by_sku_and_location(logistics, net):
    level = level_of(net["a"], net["tee"])
    movement = StockMovement.objects.filter(level=level).first()

    response = logistics.get(reverse("admin:inventory_stockmovement_change", args=[movement.pk]))
    history = logistics.get(reverse("admin:inventory_stockmovement_history", args=[movement.pk]))

    label = f"{net['tee'].code} @ Location st-a"
    assert response.status_code == 200
    assert label in breadcrumbs(response)
    assert label in title(response)
    assert f"(level {level.pk})" not in response.content.decode()
    assert raw(level) not in response.content.decode()
    assert label in breadcrumbs(history)
    assert f"(level {level.pk})" not in history.content.decode()


def test_reservation_page_names_its_level_by_sku_and_location(logistics, net):
    level = level_of(net["a"], net["tee"])
    reservation = services.reserve_stock(
        location_id=net["a"].pk,
        sku_id=net["tee"].pk,
        quantity=2,
        owner_type="order",
        owner_id="261129000001",
    )

    response = logistics.get(reverse("admin:inventory_reservation_change", args=[reservation.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"2 × {net['tee'].code} @ Location st-a, held" in breadcrumbs(response)
    assert f"level {level.pk}" not in html
    assert raw(level) not in html
    assert "Last changed (state or expiry):" in html
    assert "+00:00" not in html  # shown in shop time, formatted, like the other dates


def test_audit_trail_names_stock_level_subjects_by_sku_and_location(
    admin_client, net, django_assert_max_num_queries
):
    for sku in (net["tee"], net["cap"]):
        services.adjust_stock(
            location_id=net["a"].pk, sku_id=sku.pk, quantity=1, reason="found", actor=STOCK_ACTOR
        )
    entry = AuditEntry.objects.filter(action="stock.adjustment").first()
    level = level_of(net["a"], net["tee"])

    with django_assert_max_num_queries(12):
        listing = admin_client.get(
            "/admin/core/auditentry/", {"action": "stock.adjustment"}, HTTP_ACCEPT_LANGUAGE="en"
        )
    detail = admin_client.get(
        f"/admin/core/auditentry/{entry.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    )

    html = listing.content.decode()
    assert f"{net['tee'].code} @ Location st-a</a>" in html
    assert f"{net['cap'].code} @ Location st-a</a>" in html
    assert f"{raw(level)}:" not in html
    assert " @ Location st-a</a>" in detail.content.decode()
