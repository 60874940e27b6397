"""Allocation and availability reads: stock snapshots in, plans and per-store states out.

Two or three queries whatever the basket or product: the stock levels of the SKUs asked
about (``stock.list_sku_availability``, plus the channel's safety stock rules when a
channel is given) and the active locations (a brand has tens, not thousands; read by
hand-written SQL, and only once inside ``locations_read_once``, which checkout opens so
that the pick-up store, the plan and the store credit share one read). The planning
itself is pure (``inventory.domain``). Nothing here reserves: checkout holds the planned
lines with ``services.reserve_basket``, which refuses if the stock moved in between.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.utils.translation import get_language

from omnimall.core.errors import ValidationFailedError
from omnimall.inventory.domain import (
    AllocationPlan,
    AllocationRequest,
    BasketLine,
    Coordinates,
    DeliveryMethod,
    LocationStock,
    StockState,
    distance_km,
    find_city,
    same_city,
    stock_state,
    stores_serving_basket,
    strategy_for,
)
from omnimall.inventory.errors import InvalidQuantityError, StockLocationNotFoundError
from omnimall.inventory.models import LocationKind, StockLocation

from .stock import SkuAvailability, list_sku_availability

NEARBY_KM = 50.0  # a store this close to the shopper's city counts as "near"
MAX_LINES = 200


@dataclass(frozen=True, slots=True)
class ResolvedCity:
    """The shopper's city as understood: a known city, or the centre of a shop's stores."""

    name_en: str
    name_zh: str
    coordinates: Coordinates

    @property
    def name(self) -> str:
        return self.name_zh if _zh() else self.name_en


@dataclass(frozen=True, slots=True)
class Location:
    location_id: int
    code: str
    kind: str
    name_en: str
    name_zh: str
    city: str
    address: str
    opening_hours: str
    coordinates: Coordinates | None
    priority: int
    can_ship: bool
    offers_pickup: bool

    @property
    def name(self) -> str:
        return self.name_zh if _zh() else self.name_en

    @property
    def city_name(self) -> str:
        return city_label(self.city)


@dataclass(frozen=True, slots=True)
class StoreStock:
    """One pick-up store's stock of one SKU, as a shopper sees it."""

    store: Location
    distance_km: float | None  # None when the shopper's city is unknown
    available: int
    state: StockState


@dataclass(frozen=True, slots=True)
class SkuStock:
    sku_id: int
    delivery_available: int  # units the locations that ship can sell
    delivery_state: StockState
    stores: tuple[StoreStock, ...]  # every pick-up store, nearest first
    pickup_store_count: int  # stores holding at least one unit
    nearby_store_count: int | None  # of those, within NEARBY_KM of the city (None: no city)


@dataclass(frozen=True, slots=True)
class ProductAvailability:
    city: ResolvedCity | None  # None: no city given, or one we cannot place
    skus: Mapping[int, SkuStock]


@dataclass(frozen=True, slots=True)
class PickupStore:
    store: Location
    distance_km: float | None


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


def city_label(name: str) -> str:
    """A location's city (stored as typed, often "Shanghai") in the page's language, where
    the city table knows it; else as stored."""
    known = find_city(name)
    if known is None:
        return name
    return known.name_zh if _zh() else known.name_en


def _coordinates(
    latitude: Decimal | float | None, longitude: Decimal | float | None
) -> Coordinates | None:
    if latitude is None or longitude is None:
        return None
    return Coordinates(float(latitude), float(longitude))


@functools.cache
def _locations_sql() -> str:
    quote = connection.ops.quote_name
    meta = StockLocation._meta
    column = {f.name: quote(str(f.column)) for f in meta.concrete_fields}
    columns = ", ".join(column[name] for name in _LOCATION_COLUMNS)
    active, priority, code = (column[name] for name in ("is_active", "priority", "code"))
    return (
        f"SELECT {columns} FROM {quote(meta.db_table)} "  # noqa: S608 (names from the model)
        f"WHERE {active} = %s ORDER BY {priority}, {code}"
    )


_LOCATION_COLUMNS = (
    "id",
    "code",
    "kind",
    "name_en",
    "name_zh",
    "city",
    "address",
    "opening_hours",
    "latitude",
    "longitude",
    "priority",
    "can_ship",
    "offers_pickup",
)
# Inside ``locations_read_once``: the one read of the block (None until it is made).
_read_once: ContextVar[list[list[Location] | None] | None] = ContextVar(
    "omnimall_locations_read_once", default=None
)


def _read_locations() -> list[Location]:
    """Hand-written: every checkout reads this, and a raw read of ~tens of rows into frozen
    dataclasses costs a fraction of building and instantiating the queryset."""
    with connection.cursor() as cursor:
        cursor.execute(_locations_sql(), [True])
        rows = cursor.fetchall()
    return [
        Location(
            location_id=pk,
            code=code,
            kind=kind,
            name_en=name_en,
            name_zh=name_zh,
            city=city,
            address=address,
            opening_hours=opening_hours,
            coordinates=_coordinates(latitude, longitude),
            priority=priority,
            can_ship=bool(can_ship),
            offers_pickup=bool(offers_pickup),
        )
        for (
            pk,
            code,
            kind,
            name_en,
            name_zh,
            city,
            address,
            opening_hours,
            latitude,
            longitude,
            priority,
            can_ship,
            offers_pickup,
        ) in rows
    ]


def list_locations() -> list[Location]:
    """Every active location, by priority then code (one query; none inside a
    ``locations_read_once`` block that already read them)."""
    shared = _read_once.get()
    if shared is None:
        return _read_locations()
    read = shared[0]
    if read is None:
        read = shared[0] = _read_locations()
    return list(read)


def find_pickup_store(store: object) -> Location | None:
    """The active pick-up store named by ``store`` (its code, or its id as an int), else
    None (``list_locations``: one query, or none inside ``locations_read_once``)."""
    if store is None or isinstance(store, bool) or store == "":
        return None
    for location in list_locations():
        if not location.offers_pickup:
            continue
        if location.code == store or (isinstance(store, int) and location.location_id == store):
            return location
    return None


@contextmanager
def locations_read_once() -> Iterator[None]:
    """Within the block, every ``list_locations()`` answers from the block's first read.

    For one unit of work that asks several times (checkout: the pick-up store, the
    allocation plan, the store credit): one read, as if they had all asked at that moment.
    Nested blocks share the outermost one's read.
    """
    if _read_once.get() is not None:
        yield
        return
    token = _read_once.set([None])
    try:
        yield
    finally:
        _read_once.reset(token)


def resolve_city(name: str | None, locations: Iterable[Location] = ()) -> ResolvedCity | None:
    """A city from the table in ``domain.CITIES``; else the average position of the shop's
    locations in a city of that name; else None (then nothing is ordered by distance)."""
    if not isinstance(name, str) or not name.strip() or len(name) > 60:
        return None
    known = find_city(name)
    if known is not None:
        return ResolvedCity(known.name_en, known.name_zh, known.coordinates)
    placed = [loc for loc in locations if loc.coordinates is not None and same_city(loc.city, name)]
    if not placed:
        return None
    points = [loc.coordinates for loc in placed if loc.coordinates is not None]
    centre = Coordinates(
        sum(p.latitude for p in points) / len(points),
        sum(p.longitude for p in points) / len(points),
    )
    return ResolvedCity(placed[0].city, placed[0].city, centre)


def _distance(location: Location, city: ResolvedCity | None) -> float | None:
    if city is None or location.coordinates is None:
        return None
    return round(distance_km(location.coordinates, city.coordinates), 1)


def _snapshots(
    locations: Sequence[Location], availability: Mapping[int, SkuAvailability]
) -> list[LocationStock]:
    per_location: dict[int, dict[int, int]] = {loc.location_id: {} for loc in locations}
    for sku_id, sku in availability.items():
        for level in sku.locations:
            if level.location_id in per_location:
                per_location[level.location_id][sku_id] = level.available
    return [
        LocationStock(
            location_id=loc.location_id,
            kind=loc.kind,
            city=loc.city,
            coordinates=loc.coordinates,
            priority=loc.priority,
            can_ship=loc.can_ship,
            offers_pickup=loc.offers_pickup,
            available=per_location[loc.location_id],
        )
        for loc in locations
    ]


def _clean_lines(lines: Iterable[BasketLine]) -> tuple[BasketLine, ...]:
    cleaned = tuple(lines)
    if not cleaned or len(cleaned) > MAX_LINES:
        raise InvalidQuantityError("A basket needs 1 to 200 lines.", lines=len(cleaned))
    for line in cleaned:
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise InvalidQuantityError(sku_id=line.sku_id, quantity=quantity)
    return cleaned


def _method(method: str | DeliveryMethod) -> DeliveryMethod:
    try:
        return DeliveryMethod(method)
    except ValueError:
        raise ValidationFailedError(
            "The delivery method is 'ship' or 'pickup'.", method=str(method)[:20]
        ) from None


def plan_allocation(
    *,
    lines: Iterable[BasketLine],
    method: str | DeliveryMethod,
    city: str | None = None,
    store_id: int | None = None,
    channel_code: str = "online",
    exclude_location_ids: Iterable[int] = (),
    now: datetime | None = None,
) -> AllocationPlan:
    """Which locations would serve ``lines`` now, by the channel's strategy (3 queries).

    Delivery: as few shipments as possible, then location priority, then distance to
    ``city``. Pick-up: the store ``store_id`` only; an unknown store or one that offers no
    pick-up is refused (404). Lines that cannot be served come back as shortages. What
    the channel keeps back (its safety stock rules) is not offered. Locations in
    ``exclude_location_ids`` (e.g. one that just rejected the request) are left out.
    """
    basket = _clean_lines(lines)
    chosen = _method(method)
    excluded = set(exclude_location_ids)
    locations = [loc for loc in list_locations() if loc.location_id not in excluded]
    if chosen == DeliveryMethod.PICKUP:
        if store_id is None:
            raise ValidationFailedError("Pick-up needs a store.", store_id=None)
        if not any(loc.location_id == store_id and loc.offers_pickup for loc in locations):
            raise StockLocationNotFoundError("No such pick-up store.", store_id=store_id)
    availability = list_sku_availability(
        sku_ids=[line.sku_id for line in basket], now=now, channel_code=channel_code
    )
    resolved = resolve_city(city, locations)
    request = AllocationRequest(
        lines=basket,
        method=chosen,
        origin=resolved.coordinates if resolved else None,
        store_id=store_id,
    )
    return strategy_for(channel_code).plan(request, _snapshots(locations, availability))


def list_pickup_stores(
    *,
    lines: Iterable[BasketLine],
    city: str | None = None,
    channel_code: str | None = None,
    now: datetime | None = None,
) -> list[PickupStore]:
    """Stores that can hand over the whole basket now, nearest to ``city`` first."""
    basket = _clean_lines(lines)
    locations = list_locations()
    availability = list_sku_availability(
        sku_ids=[line.sku_id for line in basket], now=now, channel_code=channel_code
    )
    resolved = resolve_city(city, locations)
    by_id = {loc.location_id: loc for loc in locations}
    able = stores_serving_basket(
        basket,
        _snapshots(locations, availability),
        origin=resolved.coordinates if resolved else None,
    )
    return [
        PickupStore(
            store=by_id[s.location_id], distance_km=_distance(by_id[s.location_id], resolved)
        )
        for s in able
    ]


def stores_directory(city: str | None = None) -> tuple[ResolvedCity | None, list[PickupStore]]:
    """The active stores, for the shop's store finder: nearest to ``city`` first when it
    is understood (the resolved city is returned with them), else in the locations' order
    (priority, code). One query."""
    locations = [loc for loc in list_locations() if loc.kind == LocationKind.STORE]
    resolved = resolve_city(city, locations) if city else None
    found = [PickupStore(store=loc, distance_km=_distance(loc, resolved)) for loc in locations]
    if resolved is not None:
        found.sort(key=lambda s: (s.distance_km is None, s.distance_km or 0.0))
    return resolved, found


def _sku_stock(
    sku_id: int,
    levels: Mapping[int, int],
    locations: Sequence[Location],
    city: ResolvedCity | None,
) -> SkuStock:
    delivery = sum(levels.get(loc.location_id, 0) for loc in locations if loc.can_ship)
    stores = [
        StoreStock(
            store=loc,
            distance_km=_distance(loc, city),
            available=levels.get(loc.location_id, 0),
            state=stock_state(levels.get(loc.location_id, 0)),
        )
        for loc in locations
        if loc.offers_pickup
    ]
    # Nearest first; stores we cannot place go last; then by the shop's own order.
    stores.sort(key=lambda s: (s.distance_km is None, s.distance_km or 0.0))
    with_stock = [s for s in stores if s.available > 0]
    nearby = None
    if city is not None:
        nearby = sum(
            1 for s in with_stock if s.distance_km is not None and s.distance_km <= NEARBY_KM
        )
    return SkuStock(
        sku_id=sku_id,
        delivery_available=delivery,
        delivery_state=stock_state(delivery),
        stores=tuple(stores),
        pickup_store_count=len(with_stock),
        nearby_store_count=nearby,
    )


def product_availability(
    *,
    sku_ids: Iterable[int],
    city: str | None = None,
    channel_code: str | None = None,
    now: datetime | None = None,
) -> ProductAvailability:
    """Per SKU: delivery state and units, and every pick-up store's state.

    Two queries, three with ``channel_code`` (whose safety stock rules are then left out,
    as ``reserve_stock`` leaves them out for that channel).
    """
    ids = list(dict.fromkeys(sku_ids))
    locations = list_locations()
    resolved = resolve_city(city, locations)
    availability = (
        list_sku_availability(sku_ids=ids, now=now, channel_code=channel_code) if ids else {}
    )
    skus = {}
    for sku_id in ids:
        levels = {level.location_id: level.available for level in availability[sku_id].locations}
        skus[sku_id] = _sku_stock(sku_id, levels, locations, resolved)
    return ProductAvailability(city=resolved, skus=skus)
