"""Stock reads shared by pages, APIs and checks. They return dataclasses, never querysets.

Availability counts only live holds: a held reservation past ``expires_at`` is added back
at once, whether or not a service has released it yet (see ``services``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from omnimall.core import clock
from omnimall.inventory.domain import LevelBalance, available_to_sell
from omnimall.inventory.models import (
    ChannelSafetyStock,
    FlashBucket,
    Reservation,
    ReservationState,
    StockLevel,
    StockMovement,
)


@dataclass(frozen=True, slots=True)
class LocationAvailability:
    location_id: int
    location_code: str
    location_kind: str
    city: str
    can_ship: bool
    offers_pickup: bool
    on_hand: int
    reserved: int  # live holds only
    safety_stock: int
    available: int


@dataclass(frozen=True, slots=True)
class SkuAvailability:
    sku_id: int
    on_hand: int
    available: int
    locations: tuple[LocationAvailability, ...]


def _sum_of(queryset: QuerySet[Any], field: str) -> Coalesce:
    """``COALESCE((SELECT SUM(field) … per level), 0)`` as an annotation."""
    total = queryset.order_by().values("level").annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total, output_field=IntegerField()), 0)


def _lapsed_holds(now: datetime) -> Coalesce:
    return _sum_of(
        Reservation.objects.filter(
            level=OuterRef("pk"), state=ReservationState.HELD, expires_at__lte=now
        ),
        "quantity",
    )


def _bucketed() -> Coalesce:
    """Σ remaining of the level's flash-sale buckets (see ``services.flash``)."""
    return _sum_of(FlashBucket.objects.filter(level=OuterRef("pk")), "remaining")


def _location_rows(*, sku_ids: Iterable[int], now: datetime) -> QuerySet[StockLevel]:
    return (
        StockLevel.objects.filter(sku_id__in=list(sku_ids), location__is_active=True)
        .select_related("location")
        .annotate(lapsed=_lapsed_holds(now), bucketed=_bucketed())
        .order_by("sku_id", "location__priority", "location__code")
    )


def _location_availability(level: StockLevel) -> LocationAvailability:
    lapsed: int = level.lapsed  # type: ignore[attr-defined]
    bucketed: int = level.bucketed  # type: ignore[attr-defined]
    location = level.location
    return LocationAvailability(
        location_id=location.pk,
        location_code=location.code,
        location_kind=location.kind,
        city=location.city,
        can_ship=location.can_ship,
        offers_pickup=location.offers_pickup,
        on_hand=level.on_hand,
        reserved=max(level.reserved - lapsed - bucketed, 0),
        safety_stock=level.safety_stock,
        # Units in flash-sale buckets count in ``reserved`` but are for sale.
        available=available_to_sell(
            on_hand=level.on_hand,
            reserved=level.reserved,
            safety_stock=level.safety_stock,
            lapsed_holds=lapsed,
        )
        + bucketed,
    )


def _channel_kept_back(channel_code: str) -> tuple[int, dict[int, int]]:
    """(units kept back everywhere, {location_id: units}) by ``channel_code``'s rules.

    An unknown channel keeps nothing back (``reserve_stock`` refuses it).
    """
    rules: dict[int | None, int] = dict(
        ChannelSafetyStock.objects.filter(channel__code=channel_code).values_list(
            "location_id", "units"
        )
    )
    default = rules.pop(None, 0)
    return default, {location_id: units for location_id, units in rules.items() if location_id}


def _less_kept_back(row: LocationAvailability, units: int) -> LocationAvailability:
    """A location's row with a channel's safety units added to its safety stock."""
    if not units:
        return row
    return replace(
        row, safety_stock=row.safety_stock + units, available=max(row.available - units, 0)
    )


def list_sku_availability(
    *, sku_ids: Iterable[int], now: datetime | None = None, channel_code: str | None = None
) -> dict[int, SkuAvailability]:
    """Availability of each SKU, per active location and summed, in one query.

    SKUs without any stock level are present with zero availability. With
    ``channel_code``, what that channel keeps back at each location (its safety stock
    rules) is left out too, as ``reserve_stock`` does for that channel (one query more).
    """
    ids = list(dict.fromkeys(sku_ids))
    per_sku: dict[int, list[LocationAvailability]] = {sku_id: [] for sku_id in ids}
    default, kept_back = _channel_kept_back(channel_code) if channel_code else (0, {})
    for level in _location_rows(sku_ids=ids, now=now or clock.now()):
        row = _location_availability(level)
        row = _less_kept_back(row, kept_back.get(row.location_id, default))
        per_sku[level.sku_id].append(row)
    return {
        sku_id: SkuAvailability(
            sku_id=sku_id,
            on_hand=sum(loc.on_hand for loc in locations),
            available=sum(loc.available for loc in locations),
            locations=tuple(locations),
        )
        for sku_id, locations in per_sku.items()
    }


def get_sku_availability(
    *, sku_id: int, now: datetime | None = None, channel_code: str | None = None
) -> SkuAvailability:
    """Availability of one SKU, summed over active locations, with the per-location rows."""
    return list_sku_availability(sku_ids=[sku_id], now=now, channel_code=channel_code)[sku_id]


def list_availability_by_location(
    *, sku_id: int, now: datetime | None = None, channel_code: str | None = None
) -> list[LocationAvailability]:
    """One row per active location holding a level of ``sku_id``, by location priority."""
    return list(get_sku_availability(sku_id=sku_id, now=now, channel_code=channel_code).locations)


def iter_level_balances(*, chunk_size: int = 2000) -> Iterator[LevelBalance]:
    """Every level's counters beside the sums of its movements and its held reservations."""
    rows = (
        StockLevel.objects.order_by("pk")
        .annotate(
            movements_total=_sum_of(StockMovement.objects.filter(level=OuterRef("pk")), "quantity"),
            held_total=_sum_of(
                Reservation.objects.filter(level=OuterRef("pk"), state=ReservationState.HELD),
                "quantity",
            ),
            bucketed_total=_bucketed(),
        )
        .values_list(
            "pk",
            "sku_id",
            "location_id",
            "on_hand",
            "reserved",
            "movements_total",
            "held_total",
            "bucketed_total",
        )
    )
    for pk, sku_id, location_id, on_hand, reserved, movements, held, bucketed in rows.iterator(
        chunk_size
    ):
        yield LevelBalance(
            level_id=pk,
            sku_id=sku_id,
            location_id=location_id,
            on_hand=on_hand,
            reserved=reserved,
            movements_total=movements,
            held_total=held,
            bucketed_total=bucketed,
        )
