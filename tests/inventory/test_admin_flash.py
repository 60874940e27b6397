"""Flash-sale mode switched from the back office, through ``services.flash``."""

from __future__ import annotations

import pytest
from django.urls import reverse

from omnimall.core import roles
from omnimall.core.models import AuditEntry
from omnimall.inventory.models import FlashBucket
from omnimall.inventory.services import reserve_stock
from tests.inventory.factories import level_of
from tests.inventory.test_admin_stock import english_fixture, net_fixture, staff_in  # noqa: F401

pytestmark = pytest.mark.django_db

LEVELS = reverse("admin:inventory_stocklevel_changelist")


@pytest.fixture
def logistics(client):
    client.force_login(staff_in(roles.LOGISTICS, "lena"))
    return client


def test_flash_sale_page_turns_the_mode_on_and_off_through_the_service(logistics, net):
    level = level_of(net["wh"], net["tee"])
    url = reverse("admin:inventory_stocklevel_flash_sale", args=[level.pk])

    on = logistics.post(url, {"apply": "on", "buckets": "4"})
    page = logistics.get(url).content.decode()
    listing = logistics.get(LEVELS, {"location": net["wh"].pk}).content.decode()
    off = logistics.post(url, {"turn_off": "off"})

    assert on.status_code == 302
    assert "on: 4 buckets, 40 units left in them" in page
    assert 'name="turn_off"' in page
    assert '<td class="field-available">40</td>' in listing  # bucketed units are for sale
    assert off.status_code == 302
    assert not FlashBucket.objects.exists()
    actions = AuditEntry.objects.filter(actor_label="lena").values_list("action", flat=True)
    assert set(actions) == {"stock.flash_sale_enabled", "stock.flash_sale_disabled"}


def test_flash_sale_actions_switch_selected_levels(logistics, net):
    ids = [str(level_of(net["wh"], sku).pk) for sku in (net["tee"], net["cap"])]
    base = {"action": "enable_flash_sale_action", "_selected_action": ids}

    form = logistics.post(LEVELS, {**base, "index": "0"})
    on = logistics.post(LEVELS, {**base, "apply": "on", "buckets": "2"})
    reserve_stock(location_id=net["wh"].pk, sku_id=net["tee"].pk, quantity=1)
    off = logistics.post(
        LEVELS, {"action": "disable_flash_sale_action", "_selected_action": ids, "index": "0"}
    )

    assert 'name="buckets"' in form.content.decode()
    assert on.status_code == 302
    assert off.status_code == 302
    assert not FlashBucket.objects.exists()
    assert AuditEntry.objects.filter(action="stock.flash_sale_enabled").count() == 2


def test_flash_sale_bucket_count_out_of_range_is_a_form_error(logistics, net):
    level = level_of(net["wh"], net["tee"])
    url = reverse("admin:inventory_stocklevel_flash_sale", args=[level.pk])

    response = logistics.post(url, {"apply": "on", "buckets": "9999"})

    assert response.status_code == 200
    assert "less than or equal to 64" in response.content.decode()
    assert not FlashBucket.objects.exists()


def test_store_staff_cannot_switch_flash_sale_mode(client, net):
    client.force_login(staff_in(roles.STORE_STAFF, "sam", stores=[net["a"]]))
    level = level_of(net["a"], net["tee"])
    url = reverse("admin:inventory_stocklevel_flash_sale", args=[level.pk])

    response = client.post(url, {"apply": "on", "buckets": "2"})
    listing = client.get(LEVELS).content.decode()

    assert response.status_code == 403
    assert "enable_flash_sale_action" not in listing
    assert "set_safety_stock_action" in listing
    assert not FlashBucket.objects.exists()
