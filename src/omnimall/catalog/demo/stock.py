"""Demo stock: every demo SKU in the warehouses and stores, unevenly, through the ledger.

Each level gets one receipt movement for its whole ``on_hand``, so ``on_hand`` equals the
sum of its movements exactly and ``check_stock_ledger`` passes. Written in bulk (one
``COPY``/``executemany`` per table and batch), like the rest of the demo, not through
``inventory.services.receive_stock`` (an audit row and three queries per level would take
an hour for 100,000 products).

Shape: the distribution centres hold most SKUs in depth, each store a few units of many
(some down to 1–2, some none), a few SKUs nothing anywhere, and the flagship stores keep
one unit back (safety stock) for walk-in shoppers. A catalog past ``FULL_NETWORK_MAX_SKUS``
stocks each SKU in ``STORES_PER_SKU`` stores only, so 100,000 products stay a few million
rows rather than tens of millions.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from tqdm import tqdm

from omnimall.catalog.models import Sku
from omnimall.core import clock
from omnimall.inventory.models import MovementKind, StockLevel, StockLocation, StockMovement

from .bulk import analyze, insert_rows
from .locations import LOCATIONS
from .tables import BRAND_SLUGS

DEMO_REFERENCE = "demo-stock"
ACTOR_LABEL = "load_demo"
BATCH = 5000  # SKUs per batch
FULL_NETWORK_MAX_SKUS = 30_000  # up to here, every store may stock every SKU
STORES_PER_SKU = 3  # past it, each SKU goes to this many stores
SOLD_OUT_EVERYWHERE = 0.03
SAFETY_STORES = frozenset({"sh-nanjing-road", "bj-sanlitun", "gz-tianhe"})
# (chance the location holds the SKU, fewest units, most units)
WAREHOUSE_DEPTH = {"wh-east": (0.9, 5, 80), "wh-south": (0.7, 2, 40)}
STORE_CHANCE = 0.65


@dataclass(frozen=True, slots=True)
class StockResult:
    levels: int
    units: int


def demo_stock_present() -> bool:
    return StockMovement.objects.filter(reference=DEMO_REFERENCE).exists()


class _Planner:
    """Deterministic quantities per SKU and location (same seed, same SKU ids, same stock)."""

    def __init__(self, *, seed: int, locations: dict[str, int], full_network: bool) -> None:
        self.rng = random.Random(seed * 7919 + 3)  # noqa: S311 - demo data, not security
        self.warehouses = [
            (locations[c], *WAREHOUSE_DEPTH[c]) for c in WAREHOUSE_DEPTH if c in locations
        ]
        self.stores = [
            (locations[row.code], row.code in SAFETY_STORES)
            for row in LOCATIONS
            if row.kind == "store" and row.code in locations
        ]
        self.full_network = full_network

    def levels(self, sku_id: int) -> list[tuple[int, int, int]]:
        """[(location_id, on_hand, safety_stock)] for one SKU."""
        rng = self.rng
        if rng.random() < SOLD_OUT_EVERYWHERE:
            return []
        rows = [
            (location_id, rng.randint(low, high), 0)
            for location_id, chance, low, high in self.warehouses
            if rng.random() < chance
        ]
        stores = self.stores
        if not self.full_network:
            stores = rng.sample(stores, min(STORES_PER_SKU, len(stores)))
        for location_id, keeps_back in stores:
            if rng.random() < STORE_CHANCE:
                units = min(1 + int(rng.expovariate(0.3)), 15)  # mostly 1–6, a few more
                rows.append((location_id, units, 1 if keeps_back and units >= 3 else 0))
        return rows


def load_demo_stock(
    *, seed: int, progress: bool = True, out: Callable[[str], None] = print
) -> StockResult:
    """Stock every demo SKU that has no level yet at the demo locations; once.

    Runs inside the caller's transaction when there is one (a fresh demo load), else in
    its own: all or nothing either way.
    """
    if demo_stock_present():
        return StockResult(levels=0, units=0)
    locations = dict(
        StockLocation.objects.filter(code__in=[row.code for row in LOCATIONS]).values_list(
            "code", "id"
        )
    )
    skus = Sku.objects.filter(product__brand__slug__in=BRAND_SLUGS)
    total = skus.count()
    if not locations or not total:
        return StockResult(levels=0, units=0)
    planner = _Planner(seed=seed, locations=locations, full_network=total <= FULL_NETWORK_MAX_SKUS)
    # A fresh demo has no level for its SKUs yet: then no batch needs to look for any.
    some_exist = StockLevel.objects.filter(sku__in=skus).exists()
    now = clock.now()
    started = time.perf_counter()
    levels = units = 0
    with (
        transaction.atomic(),
        tqdm(total=total, unit="SKU", desc="demo stock", disable=not progress) as bar,
    ):
        after = 0
        while True:
            batch = list(
                skus.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:BATCH]
            )
            if not batch:
                break
            after = batch[-1]
            added = _insert_batch(batch, planner, now, some_exist=some_exist)
            levels += len(added)
            units += sum(added.values())
            bar.update(len(batch))
    analyze([StockLevel, StockMovement])
    seconds = time.perf_counter() - started
    out(f"demo stock: {levels} stock levels, {units} units (receipt movements) in {seconds:.1f} s")
    return StockResult(levels=levels, units=units)


def _insert_batch(
    sku_ids: list[int], planner: _Planner, now: datetime, *, some_exist: bool
) -> dict[int, int]:
    """Levels and their receipts for one batch; returns {level_id: on_hand} of new levels."""
    existing = (
        set(StockLevel.objects.filter(sku_id__in=sku_ids).values_list("location_id", "sku_id"))
        if some_exist
        else set()
    )
    planned: dict[tuple[int, int], tuple[int, int]] = {}
    for sku_id in sku_ids:
        for location_id, on_hand, safety in planner.levels(sku_id):
            if (location_id, sku_id) not in existing:
                planned[(location_id, sku_id)] = (on_hand, safety)
    insert_rows(
        StockLevel,
        [
            {"location_id": loc, "sku_id": sku, "on_hand": on_hand, "safety_stock": safety}
            for (loc, sku), (on_hand, safety) in planned.items()
        ],
        now=now,
    )
    created = {
        pk: planned[(loc, sku)][0]
        for pk, loc, sku in StockLevel.objects.filter(sku_id__in=sku_ids).values_list(
            "pk", "location_id", "sku_id"
        )
        if (loc, sku) in planned
    }
    insert_rows(
        StockMovement,
        [
            {
                "level_id": pk,
                "kind": MovementKind.RECEIPT.value,
                "quantity": on_hand,
                "actor_kind": "system",
                "actor_label": ACTOR_LABEL,
                "reference": DEMO_REFERENCE,
                "reservation_id": None,
            }
            for pk, on_hand in created.items()
        ],
        now=now,
    )
    return created
