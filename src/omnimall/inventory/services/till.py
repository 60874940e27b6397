"""Selling at a store's till: walk-in shoppers take goods off the shelf.

The goods have already left when the till reports the sale, so a till sale is never
refused for lack of stock. It sells what the level can give without breaking its
constraints — ``min(quantity, on_hand − reserved)``, safety stock ignored (safety stock is
kept back from *online* sale precisely for these shoppers) — and reports the rest as
``short`` so the caller can flag it for staff (a count is probably wrong).

Rules kept (the same as ``stock``): each unit sold appends a ``sale`` movement in the same
transaction; ``on_hand`` changes only by a conditional ``F()`` update; several levels are
locked in primary-key order; lapsed holds of a level are released (under its lock) before
deciding, so an expired online hold never makes a till sale short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Now

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.inventory.errors import StockLedgerError
from omnimall.inventory.models import MovementKind, StockLevel

from .stock import (
    _append_movement,
    _ensure_level,
    _release_lapsed_holds,
    _require_positive,
)


@dataclass(frozen=True, slots=True)
class TillSale:
    sku_id: int
    quantity: int  # what the till sold
    sold: int  # taken off on_hand (a sale movement)
    short: int  # what the level could not give

    @property
    def movement_quantity(self) -> int:
        return -self.sold


def sell_lines_at_store(
    *, location_id: int, lines: Sequence[tuple[int, int]], actor: Actor, reference: str
) -> list[TillSale]:
    """Sell ``lines`` = [(sku_id, quantity), …] at one store; one result per line, in order.

    Lines naming the same SKU share its level (and are decided one after the other). The
    levels are created empty on first use and locked in primary-key order. Call it inside
    the caller's transaction (it opens a savepoint of its own otherwise).
    """
    for _sku_id, quantity in lines:
        _require_positive(quantity)
    now = clock.now()
    with transaction.atomic():
        level_of = {
            sku_id: _ensure_level(location_id=location_id, sku_id=sku_id).pk
            for sku_id in dict.fromkeys(sku_id for sku_id, _q in lines)
        }
        # Lock the levels in primary-key order and read what each can give, in one query
        # (NO KEY UPDATE, like ``stock._lock_level``: flash-sale buyers' key-share locks
        # must not wait behind a till).
        no_key = connection.features.has_select_for_no_key_update
        free = {
            pk: on_hand - reserved
            for pk, on_hand, reserved in StockLevel.objects.select_for_update(no_key=no_key)
            .filter(pk__in=set(level_of.values()))
            .order_by("pk")
            .values_list("pk", "on_hand", "reserved")
        }
        lapsed_released: set[int] = set()
        results: list[TillSale] = []
        for sku_id, quantity in lines:
            level_id = level_of[sku_id]
            if free[level_id] < quantity and level_id not in lapsed_released:
                lapsed_released.add(level_id)
                if _release_lapsed_holds(level_id=level_id, now=now):
                    row = StockLevel.objects.values("on_hand", "reserved").get(pk=level_id)
                    free[level_id] = row["on_hand"] - row["reserved"]
            sold = max(0, min(quantity, free[level_id]))
            if sold > 0:
                matched = StockLevel.objects.filter(
                    pk=level_id, on_hand__gte=F("reserved") + sold
                ).update(on_hand=F("on_hand") - sold, updated_at=Now())
                if matched != 1:  # impossible under the level's lock
                    raise StockLedgerError(f"level {level_id} changed under its lock")
                free[level_id] -= sold
                _append_movement(
                    level_id=level_id,
                    kind=MovementKind.SALE,
                    quantity=-sold,
                    actor=actor,
                    reference=reference,
                )
            results.append(
                TillSale(sku_id=sku_id, quantity=quantity, sold=sold, short=quantity - sold)
            )
    return results
