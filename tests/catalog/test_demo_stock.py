"""``load_demo`` stocks the demo's warehouses and stores through the ledger."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from omnimall.catalog.demo.stock import DEMO_REFERENCE, SAFETY_STORES
from omnimall.catalog.models import Sku
from omnimall.inventory import services
from omnimall.inventory.models import MovementKind, StockLevel, StockLocation, StockMovement
from tests.inventory.factories import STOCK_ACTOR

pytestmark = pytest.mark.django_db

PRODUCTS = 60


def load() -> str:
    out = StringIO()
    call_command("load_demo", "--products", str(PRODUCTS), "--no-progress", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo() -> str:
    return load()


def test_load_demo_stocks_every_location_unevenly_when_run(demo):
    per_location = dict(
        StockLevel.objects.values_list("location__code")
        .annotate(n=Count("id"))
        .values_list("location__code", "n")
    )
    skus = Sku.objects.count()

    assert set(per_location) == set(StockLocation.objects.values_list("code", flat=True))
    assert all(0 < n < skus for n in per_location.values())  # every one, none has everything
    assert per_location["wh-east"] > per_location["sh-xintiandi"]
    on_hand = list(StockLevel.objects.values_list("on_hand", flat=True))
    assert min(on_hand) >= 1
    assert max(on_hand) > 15  # warehouses hold depth
    assert sum(1 for n in on_hand if n <= 2) > 10  # and stores often just one or two
    stocked = set(StockLevel.objects.values_list("sku_id", flat=True).distinct())
    assert len(stocked) > 0.9 * skus  # a few SKUs are sold out everywhere
    assert "stock levels" in demo


def test_load_demo_writes_one_receipt_per_level_so_the_ledger_checks_out(demo):
    totals = StockMovement.objects.aggregate(units=Sum("quantity"), n=Count("id"))
    out = StringIO()

    call_command("check_stock_ledger", stdout=out)

    assert totals["n"] == StockLevel.objects.count()
    assert totals["units"] == StockLevel.objects.aggregate(s=Sum("on_hand"))["s"]
    assert set(StockMovement.objects.values_list("kind", "reference").distinct()) == {
        (MovementKind.RECEIPT, DEMO_REFERENCE)
    }
    assert "Stock ledger OK" in out.getvalue()


def test_load_demo_sets_safety_stock_in_flagship_stores_only(demo):
    kept = StockLevel.objects.filter(safety_stock__gt=0)

    assert kept.exists()
    assert set(kept.values_list("location__code", flat=True)) <= SAFETY_STORES
    assert not kept.filter(on_hand__lt=3).exists()


def test_load_demo_stocks_an_older_demo_once_when_its_stock_is_missing(demo):
    StockMovement.objects.all().delete()
    StockLevel.objects.all().delete()

    first = load()
    levels = StockLevel.objects.count()
    second = load()

    assert "added its stock" in first
    assert levels > 0
    assert "nothing to do" in second
    assert StockLevel.objects.count() == levels


def test_load_demo_keeps_levels_a_shop_already_has_when_stocking_an_older_demo(demo):
    StockMovement.objects.all().delete()
    StockLevel.objects.all().delete()
    sku = Sku.objects.order_by("pk").first()
    store = StockLocation.objects.get(code="sh-nanjing-road")
    services.receive_stock(location_id=store.pk, sku_id=sku.pk, quantity=99, actor=STOCK_ACTOR)

    load()

    assert StockLevel.objects.get(location=store, sku=sku).on_hand == 99
    assert StockLevel.objects.count() > 100
    assert "Stock ledger OK" in _ledger_check()


def _ledger_check() -> str:
    out = StringIO()
    call_command("check_stock_ledger", stdout=out)
    return out.getvalue()
