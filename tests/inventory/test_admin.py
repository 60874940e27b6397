from __future__ import annotations

import pytest
from django.urls import reverse

from omnimall.inventory import services
from tests.inventory.factories import STOCK_ACTOR, make_location, make_skus

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock():
    location = make_location("wh-admin")
    (sku,) = make_skus()
    services.receive_stock(
        location_id=location.pk, sku_id=sku.pk, quantity=5, actor=STOCK_ACTOR, reference="PO-77"
    )
    services.reserve_stock(location_id=location.pk, sku_id=sku.pk, quantity=2, owner_id="c-9")
    return sku


@pytest.mark.parametrize(
    ("model", "shown"), [("stocklevel", None), ("stockmovement", "PO-77"), ("reservation", "c-9")]
)
def test_stock_admin_lists_rows_read_only_when_staff_opens_it(admin_client, stock, model, shown):
    response = admin_client.get(reverse(f"admin:inventory_{model}_changelist"))
    add = admin_client.get(reverse(f"admin:inventory_{model}_add"))

    assert response.status_code == 200
    assert (shown or stock.code) in response.content.decode()
    assert add.status_code == 403
