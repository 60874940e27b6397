"""Reads about flash-sale mode (``services.flash``): which level, and what its buckets hold."""

from __future__ import annotations

from dataclasses import dataclass

from omnimall.inventory.models import FlashBucket, StockLevel


@dataclass(frozen=True, slots=True)
class FlashSaleState:
    level_id: int
    on_hand: int
    reserved: int  # held reservations + bucketed units
    safety_stock: int
    buckets: tuple[int, ...]  # remaining per slot; empty outside flash-sale mode

    @property
    def bucketed(self) -> int:
        return sum(self.buckets)


def get_level_id(*, sku_code: str, location_code: str) -> int | None:
    """The stock level of the SKU with ``sku_code`` at the location with ``location_code``."""
    return (
        StockLevel.objects.filter(sku__code=sku_code, location__code=location_code)
        .values_list("pk", flat=True)
        .first()
    )


def get_flash_sale_state(*, level_id: int) -> FlashSaleState | None:
    """The level's counters and its buckets' remaining units by slot (None: no such level)."""
    level = (
        StockLevel.objects.filter(pk=level_id)
        .values_list("on_hand", "reserved", "safety_stock")
        .first()
    )
    if level is None:
        return None
    remaining = FlashBucket.objects.filter(level_id=level_id).order_by("slot")
    return FlashSaleState(
        level_id,
        *level,
        buckets=tuple(remaining.values_list("remaining", flat=True)),
    )
