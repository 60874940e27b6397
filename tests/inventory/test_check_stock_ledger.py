from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from omnimall.inventory import services
from omnimall.inventory.models import StockLevel
from tests.inventory.factories import STOCK_ACTOR, make_location, make_skus

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger():
    location = make_location("wh")
    sku_a, sku_b = make_skus(2)
    for sku in (sku_a, sku_b):
        services.receive_stock(
            location_id=location.pk, sku_id=sku.pk, quantity=10, actor=STOCK_ACTOR
        )
    held = services.reserve_stock(location_id=location.pk, sku_id=sku_a.pk, quantity=3)
    sold = services.reserve_stock(location_id=location.pk, sku_id=sku_b.pk, quantity=2)
    services.commit_reservation(reservation_id=sold.pk, actor=STOCK_ACTOR)
    services.adjust_stock(
        location_id=location.pk, sku_id=sku_b.pk, quantity=-1, reason="broken", actor=STOCK_ACTOR
    )
    return held.level_id


def test_check_stock_ledger_passes_when_counters_match_movements(ledger):
    out = StringIO()

    call_command("check_stock_ledger", stdout=out)

    assert "Stock ledger OK: 2 stock levels checked." in out.getvalue()


@pytest.mark.parametrize(
    ("column", "expected_line"),
    [
        ("on_hand", "on_hand=11 but sum of movements=10"),
        ("reserved", "reserved=4 but sum of held reservations=3"),
    ],
)
def test_check_stock_ledger_fails_when_a_counter_was_tampered_with(ledger, column, expected_line):
    table = connection.ops.quote_name(StockLevel._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = {column} + 1 WHERE id = %s",  # noqa: S608
            [ledger],
        )
    out = StringIO()

    with pytest.raises(CommandError, match="1 mismatch"):
        call_command("check_stock_ledger", stdout=out)

    assert expected_line in out.getvalue()
