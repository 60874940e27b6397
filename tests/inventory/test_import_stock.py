"""``omnimall manage import_stock``: validate every row first, apply in bulk or change nothing."""

from __future__ import annotations

import csv
import random
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from omnimall.catalog.models import Sku
from omnimall.core.models import AuditEntry
from omnimall.inventory import services
from omnimall.inventory.models import LocationKind, MovementKind, StockLevel, StockMovement
from omnimall.inventory.services.reports import record_receipt
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus

pytestmark = pytest.mark.django_db

LOCATIONS = ("wh-a", "wh-b", "st-a", "st-b", "st-c")
SKUS_PER_LOCATION = 600  # 5 × 600 = 3,000 rows


@pytest.fixture
def stock():
    """5 locations, 600 SKUs; the first 200 SKUs already stocked (10 units) everywhere."""
    locations = [
        make_location(code, kind=LocationKind.STORE if code.startswith("st") else "warehouse")
        for code in LOCATIONS
    ]
    (first,) = make_skus(1)
    Sku.objects.bulk_create(
        Sku(product_id=first.product_id, code=f"IMP-{n:05d}", position=n + 1)
        for n in range(SKUS_PER_LOCATION - 1)
    )
    skus = list(Sku.objects.filter(product_id=first.product_id).order_by("position"))
    for location in locations:
        record_receipt(
            location=location.code,
            reference="opening stock",
            lines=[(sku.code, 10) for sku in skus[:200]],
            actor=STOCK_ACTOR,
        )
    return {"locations": locations, "skus": skus}


def write_csv(path: Path, rows, header=("location", "sku", "count")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def generated_rows(stock, seed=7):
    rng = random.Random(seed)
    rows = []
    for location in stock["locations"]:
        for i, sku in enumerate(stock["skus"]):
            # a third unchanged (10 for stocked SKUs, 0 for the rest), the others random
            unchanged = 10 if i < 200 else 0
            count = unchanged if rng.random() < 0.33 else rng.randint(0, 40)
            rows.append((location.code, sku.code, count))
    return rows


def run(*args):
    out = StringIO()
    call_command("import_stock", *map(str, args), "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def on_hand_by_pair():
    return {
        (level.location.code, level.sku.code): level.on_hand
        for level in StockLevel.objects.select_related("location", "sku")
    }


def test_import_stock_sets_every_count_of_a_3000_row_file_in_bulk(
    stock, tmp_path, django_assert_max_num_queries
):
    rows = generated_rows(stock)
    path = write_csv(tmp_path / "stock.csv", rows)
    movements_before = StockMovement.objects.count()
    before = on_hand_by_pair()
    deltas = {count - before.get((loc, sku), 0) for loc, sku, count in rows} - {0}

    # A fixed number of queries, plus one UPDATE per distinct change (not per row).
    with django_assert_max_num_queries(50 + len(deltas)):
        output = run(path)

    after = on_hand_by_pair()
    for location, sku, count in rows:
        assert after.get((location, sku), 0) == count
    changed = sum(1 for loc, sku, count in rows if before.get((loc, sku), 0) != count)
    assert 1000 < changed < len(rows)
    assert StockMovement.objects.count() == movements_before + changed
    corrections = StockMovement.objects.filter(kind=MovementKind.COUNT_CORRECTION)
    assert corrections.count() == changed
    assert set(corrections.values_list("reference", flat=True)) == {"stock.csv"}
    assert f"{len(rows)} rows checked, changed {changed} stock levels" in output
    assert AuditEntry.objects.filter(action="stock.file_imported").count() == 1
    call_command("check_stock_ledger", stdout=StringIO())


def test_import_stock_changes_nothing_and_reports_the_row_when_one_row_is_bad(stock, tmp_path):
    rows = generated_rows(stock)
    rows[2500] = (rows[2500][0], "NO-SUCH-SKU", 5)
    path = write_csv(tmp_path / "stock.csv", rows)
    report = tmp_path / "rejects.csv"
    movements_before = StockMovement.objects.count()
    levels_before = on_hand_by_pair()

    with pytest.raises(CommandError, match="nothing was changed"):
        run(path, "--report", report)

    assert StockMovement.objects.count() == movements_before
    assert on_hand_by_pair() == levels_before
    with report.open(encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert rejected == [
        {
            "row": "2502",  # the header is line 1, rows[0] is line 2
            "location": rows[2500][0],
            "sku": "NO-SUCH-SKU",
            "count": "5",
            "code": "unknown_sku",
            "message": "no SKU 'NO-SUCH-SKU'",
        }
    ]


def test_import_stock_reports_every_kind_of_rejected_row(stock, tmp_path):
    sku_a, sku_b, sku_c = (s.code for s in stock["skus"][:3])
    wh = stock["locations"][0]
    services.reserve_stock(location_id=wh.pk, sku_id=stock["skus"][2].pk, quantity=6)
    path = write_csv(
        tmp_path / "night.csv",
        [
            ("wh-a", sku_a, 5),
            ("nowhere", sku_a, 5),
            ("wh-a", "GHOST", 5),
            ("wh-a", sku_b, "-2"),
            ("wh-b", sku_b, "1.5"),
            ("wh-b", sku_b, ""),
            ("wh-a", sku_a, 7),
            ("wh-a", sku_c, 5),
        ],
    )

    with pytest.raises(CommandError, match=r"8 problem\(s\) in 8 rows"):
        run(path)

    report = tmp_path / "night.rejects.csv"  # the default: beside the file
    with report.open(encoding="utf-8") as handle:
        codes = [(r["row"], r["code"]) for r in csv.DictReader(handle)]
    assert codes == [
        ("3", "unknown_location"),
        ("4", "unknown_sku"),
        ("5", "negative_count"),
        ("6", "invalid_count"),
        ("7", "invalid_count"),
        ("7", "duplicate_sku"),
        ("8", "duplicate_sku"),
        ("9", "below_reserved"),
    ]
    assert level_of(wh, stock["skus"][0]).on_hand == 10


def test_import_stock_dry_run_counts_the_changes_and_writes_nothing(stock, tmp_path):
    sku_a, sku_b = (s.code for s in stock["skus"][:2])
    path = write_csv(tmp_path / "stock.csv", [("wh-a", sku_a, 4), ("wh-a", sku_b, 10)])
    movements_before = StockMovement.objects.count()

    output = run(path, "--dry-run")

    assert "2 rows checked, would change 1 stock levels (+0 / -6 units)" in output
    assert StockMovement.objects.count() == movements_before
    assert level_of(stock["locations"][0], stock["skus"][0]).on_hand == 10


def test_import_stock_refuses_a_file_without_the_columns(stock, tmp_path):
    path = write_csv(tmp_path / "stock.csv", [("wh-a", "x")], header=("location", "sku"))

    with pytest.raises(CommandError, match="count"):
        run(path)


def test_import_stock_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run(tmp_path / "missing.csv")
