"""Two staff members put the same province into different zones at the same instant: one
zone gets it, the other save is refused (the unique constraint decides), never both."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnimall.checkout.errors import ProvinceInOtherZoneError
from omnimall.checkout.models import ShippingZone, ShippingZoneProvince
from omnimall.checkout.services.shipping import save_shipping_zone
from omnimall.core.actors import Actor
from omnimall.core.models import AuditEntry
from tests.races import run_together

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_a_province_raced_into_two_zones_ends_in_one(race_database):
    def save(i: int) -> str:
        zone = ShippingZone(name_zh=f"区域{i}", fee=Decimal("20.00"), free_from=None)
        try:
            save_shipping_zone(zone=zone, provinces=["XJ", "XZ"], actor=Actor.system(f"s{i}"))
        except ProvinceInOtherZoneError:
            return "refused"
        return "saved"

    outcomes = run_together(4, save)

    assert sorted(outcomes) == ["refused", "refused", "refused", "saved"]
    assert ShippingZone.objects.count() == 1
    assert ShippingZoneProvince.objects.count() == 2
    assert AuditEntry.objects.filter(action="shippingzone.created").count() == 1
