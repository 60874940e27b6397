"""Pure stock rules: availability arithmetic and the ledger balance check. No Django here."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

# The most units one count, receipt or adjustment may name: far above any real shelf, and
# far inside the 32-bit stock columns, so a typo (or a hostile integer) cannot overflow them.
MAX_UNITS = 1_000_000


def available_to_sell(
    *, on_hand: int, reserved: int, safety_stock: int, lapsed_holds: int = 0
) -> int:
    """Units that may still be promised: on_hand − live holds − safety stock, never below 0.

    ``reserved`` still includes holds past their expiry until a service releases them;
    ``lapsed_holds`` (their total) is added back so an expired hold stops counting at once.
    """
    live_reserved = max(reserved - lapsed_holds, 0)
    return max(on_hand - live_reserved - safety_stock, 0)


@dataclass(frozen=True, slots=True)
class Shortage:
    """One line that could not be served: what was asked and what was available."""

    sku_id: int
    location_id: int | None
    requested: int
    available: int

    def as_dict(self) -> dict[str, int | None]:
        return {
            "sku_id": self.sku_id,
            "location_id": self.location_id,
            "requested": self.requested,
            "available": self.available,
        }


@dataclass(frozen=True, slots=True)
class LevelBalance:
    """A stock level's counters beside what its ledger and its held reservations add up to."""

    level_id: int
    sku_id: int
    location_id: int
    on_hand: int
    reserved: int
    movements_total: int
    held_total: int
    bucketed_total: int = 0  # Σ remaining of its flash-sale buckets: they count in reserved


@dataclass(frozen=True, slots=True)
class LedgerMismatch:
    level_id: int
    sku_id: int
    location_id: int
    field: str  # "on_hand" or "reserved"
    recorded: int
    expected: int
    bucketed: int = 0  # of ``expected`` for "reserved": units in flash-sale buckets

    def describe(self) -> str:
        source = "sum of movements" if self.field == "on_hand" else "sum of held reservations"
        if self.field == "reserved" and self.bucketed:
            source += f" + flash buckets ({self.bucketed})"
        return (
            f"level {self.level_id} (sku {self.sku_id}, location {self.location_id}): "
            f"{self.field}={self.recorded} but {source}={self.expected}"
        )


def find_ledger_mismatches(balances: Iterable[LevelBalance]) -> list[LedgerMismatch]:
    """Every level whose ``on_hand`` ≠ Σ movements or ``reserved`` ≠ Σ held reservations
    + Σ its flash-sale buckets' remaining."""
    mismatches: list[LedgerMismatch] = []
    for b in balances:
        for field, recorded, expected in (
            ("on_hand", b.on_hand, b.movements_total),
            ("reserved", b.reserved, b.held_total + b.bucketed_total),
        ):
            if recorded != expected:
                mismatches.append(
                    LedgerMismatch(
                        level_id=b.level_id,
                        sku_id=b.sku_id,
                        location_id=b.location_id,
                        field=field,
                        recorded=recorded,
                        expected=expected,
                        bucketed=b.bucketed_total if field == "reserved" else 0,
                    )
                )
    return mismatches


# --- Allocation: which locations serve a basket -------------------------------------------
#
# Pure planning over snapshots the selectors gather (``selectors.allocation``). Nothing here
# reserves anything: checkout reserves the planned lines afterwards with ``reserve_stock``,
# which refuses if the stock moved in between.

LOW_STOCK_THRESHOLD = 5  # "only N left" at or below this many units
EARTH_RADIUS_KM = 6371.0088
# Work (subsets of locations tried × basket lines) the exact fewest-shipments search may do
# before it falls back to the greedy split: every subset of the demo's 14 locations for a
# basket of up to 12 lines; a big network or a huge basket goes greedy.
MAX_EXACT_CHECKS = 200_000


class DeliveryMethod(StrEnum):
    SHIP = "ship"  # delivered to the shopper from one or more locations that can ship
    PICKUP = "pickup"  # collected at one store


class StockState(StrEnum):
    IN_STOCK = "in_stock"
    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"


def stock_state(available: int, *, low_threshold: int = LOW_STOCK_THRESHOLD) -> StockState:
    if available <= 0:
        return StockState.OUT_OF_STOCK
    return StockState.LOW_STOCK if available <= low_threshold else StockState.IN_STOCK


@dataclass(frozen=True, slots=True)
class Coordinates:
    latitude: float
    longitude: float


def distance_km(a: Coordinates, b: Coordinates) -> float:
    """Great-circle distance (haversine)."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlng = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class City:
    name_en: str
    name_zh: str
    coordinates: Coordinates


def _city(name_en: str, name_zh: str, lat: float, lng: float) -> City:
    return City(name_en, name_zh, Coordinates(lat, lng))


# The demo's cities and China's main cities (city centres). Data, not configuration: a
# shop with stores elsewhere gets their cities from its locations (see the selector).
CITIES: tuple[City, ...] = (
    _city("Shanghai", "上海", 31.2304, 121.4737),
    _city("Beijing", "北京", 39.9042, 116.4074),
    _city("Guangzhou", "广州", 23.1291, 113.2644),
    _city("Shenzhen", "深圳", 22.5431, 114.0579),
    _city("Hangzhou", "杭州", 30.2741, 120.1551),
    _city("Chengdu", "成都", 30.5728, 104.0668),
    _city("Chongqing", "重庆", 29.5630, 106.5516),
    _city("Tianjin", "天津", 39.3434, 117.3616),
    _city("Wuhan", "武汉", 30.5928, 114.3055),
    _city("Nanjing", "南京", 32.0603, 118.7969),
    _city("Suzhou", "苏州", 31.2990, 120.5853),
    _city("Xi'an", "西安", 34.3416, 108.9398),
    _city("Changsha", "长沙", 28.2282, 112.9388),
    _city("Zhengzhou", "郑州", 34.7466, 113.6254),
    _city("Qingdao", "青岛", 36.0671, 120.3826),
    _city("Shenyang", "沈阳", 41.8057, 123.4315),
    _city("Dalian", "大连", 38.9140, 121.6147),
    _city("Xiamen", "厦门", 24.4798, 118.0894),
    _city("Ningbo", "宁波", 29.8683, 121.5440),
    _city("Kunming", "昆明", 25.0389, 102.7183),
    _city("Hefei", "合肥", 31.8206, 117.2272),
    _city("Fuzhou", "福州", 26.0745, 119.2965),
    _city("Jinan", "济南", 36.6512, 117.1201),
    _city("Harbin", "哈尔滨", 45.8038, 126.5350),
    _city("Dongguan", "东莞", 23.0207, 113.7518),
    _city("Foshan", "佛山", 23.0215, 113.1214),
    _city("Wuxi", "无锡", 31.4912, 120.3119),
    _city("Hong Kong", "香港", 22.3193, 114.1694),
)


def _city_key(name: str) -> str:
    key = "".join(name.split()).casefold().replace("'", "").replace("’", "")
    return key.removesuffix("市") if len(key) > 2 else key  # "上海市" is 上海


_CITY_INDEX: dict[str, City] = {
    key: city for city in CITIES for key in (_city_key(city.name_en), _city_key(city.name_zh))
}


def find_city(name: str) -> City | None:
    """A city of the table by its English or Chinese name (any case, "市" optional)."""
    if not isinstance(name, str) or not name.strip() or len(name) > 60:
        return None
    return _CITY_INDEX.get(_city_key(name))


def same_city(a: str, b: str) -> bool:
    """Whether two city names mean the same city ("Shanghai", "上海市", "shanghai")."""
    known_a, known_b = find_city(a), find_city(b)
    if known_a is not None or known_b is not None:
        return known_a is known_b
    return _city_key(a) == _city_key(b)


@dataclass(frozen=True, slots=True)
class BasketLine:
    sku_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class LocationStock:
    """What one location can give right now: units available to sell per SKU."""

    location_id: int
    kind: str  # "warehouse" or "store"
    city: str
    coordinates: Coordinates | None
    priority: int  # lower ships first
    can_ship: bool
    offers_pickup: bool
    available: Mapping[int, int]  # sku_id → units

    def units(self, sku_id: int) -> int:
        return max(self.available.get(sku_id, 0), 0)

    def holds(self, lines: Iterable[BasketLine]) -> bool:
        return all(self.units(line.sku_id) >= line.quantity for line in lines)


@dataclass(frozen=True, slots=True)
class PlannedShipment:
    location_id: int
    lines: tuple[BasketLine, ...]


@dataclass(frozen=True, slots=True)
class AllocationPlan:
    """Shipments (one per location) for what can be served; a shortage per line that can't.

    A short line is left out of the shipments entirely (``Shortage.available`` says how
    many units could be had), so a complete plan is simply one without shortages.
    """

    method: DeliveryMethod
    shipments: tuple[PlannedShipment, ...]
    shortages: tuple[Shortage, ...]

    @property
    def complete(self) -> bool:
        return not self.shortages

    def allocated(self) -> dict[tuple[int, int], int]:
        """{(location_id, sku_id): units} over all shipments."""
        totals: dict[tuple[int, int], int] = {}
        for shipment in self.shipments:
            for line in shipment.lines:
                key = (shipment.location_id, line.sku_id)
                totals[key] = totals.get(key, 0) + line.quantity
        return totals


@dataclass(frozen=True, slots=True)
class AllocationRequest:
    lines: tuple[BasketLine, ...]
    method: DeliveryMethod
    origin: Coordinates | None = None  # the shopper's city, when known
    store_id: int | None = None  # pick-up: the chosen store


def merge_lines(lines: Iterable[BasketLine]) -> tuple[BasketLine, ...]:
    """One line per SKU (quantities added), in first-seen order; empty lines dropped."""
    totals: dict[int, int] = {}
    for line in lines:
        if line.quantity > 0:
            totals[line.sku_id] = totals.get(line.sku_id, 0) + line.quantity
    return tuple(BasketLine(sku_id, quantity) for sku_id, quantity in totals.items())


def _distance(location: LocationStock, origin: Coordinates | None) -> float:
    """Distance to the shopper; 0 for everyone when the shopper's city is unknown."""
    if origin is None:
        return 0.0
    if location.coordinates is None:
        return math.inf
    return distance_km(location.coordinates, origin)


def _by_priority(origin: Coordinates | None) -> Callable[[LocationStock], tuple[float, ...]]:
    return lambda loc: (loc.priority, _distance(loc, origin), loc.location_id)


def _by_distance(origin: Coordinates | None) -> Callable[[LocationStock], tuple[float, ...]]:
    return lambda loc: (_distance(loc, origin), loc.priority, loc.location_id)


def _fill(
    lines: Sequence[BasketLine], ranked: Sequence[LocationStock]
) -> tuple[PlannedShipment, ...]:
    """Take each line from ``ranked`` in order, never more than a location has."""
    per_location: dict[int, list[BasketLine]] = {}
    for line in lines:
        need = line.quantity
        for location in ranked:
            take = min(need, location.units(line.sku_id))
            if take > 0:
                per_location.setdefault(location.location_id, []).append(
                    BasketLine(line.sku_id, take)
                )
                need -= take
            if need == 0:
                break
    return tuple(
        PlannedShipment(loc.location_id, tuple(per_location[loc.location_id]))
        for loc in ranked
        if loc.location_id in per_location
    )


def _covers(lines: Sequence[BasketLine], group: Sequence[LocationStock]) -> bool:
    return all(sum(loc.units(line.sku_id) for loc in group) >= line.quantity for line in lines)


def _fewest_locations(
    lines: Sequence[BasketLine], ranked: Sequence[LocationStock]
) -> Sequence[LocationStock] | None:
    """The smallest set of locations that covers ``lines`` (best-ranked first), by trying
    every subset of 1, 2, … locations in rank order; None when that would take too long."""
    budget = MAX_EXACT_CHECKS
    for size in range(1, len(ranked) + 1):
        budget -= math.comb(len(ranked), size) * len(lines)
        if budget < 0:
            return None
        for group in itertools.combinations(ranked, size):
            if _covers(lines, group):
                return group
    return None


def _greedy_locations(
    lines: Sequence[BasketLine], ranked: Sequence[LocationStock]
) -> list[LocationStock]:
    """Repeatedly take the location that serves most of what is still missing."""
    missing = {line.sku_id: line.quantity for line in lines}
    chosen: list[LocationStock] = []
    left = list(enumerate(ranked))  # (rank, location): ties go to the better rank
    while any(missing.values()) and left:
        best_rank, best = max(
            left,
            key=lambda item: (
                sum(min(q, item[1].units(sku)) for sku, q in missing.items() if q),
                -item[0],
            ),
        )
        left.remove((best_rank, best))
        chosen.append(best)
        for sku in missing:
            missing[sku] -= min(missing[sku], best.units(sku))
    return chosen


def _split_short_lines(
    lines: Sequence[BasketLine], candidates: Sequence[LocationStock], location_id: int | None
) -> tuple[list[BasketLine], list[Shortage]]:
    servable: list[BasketLine] = []
    shortages: list[Shortage] = []
    for line in lines:
        total = sum(loc.units(line.sku_id) for loc in candidates)
        if total >= line.quantity:
            servable.append(line)
        else:
            shortages.append(Shortage(line.sku_id, location_id, line.quantity, total))
    return servable, shortages


@dataclass(frozen=True, slots=True)
class FewestShipmentsStrategy:
    """Delivery in as few shipments as possible; pick-up from the chosen store only.

    Among equally few shipments, locations are preferred by priority, then distance to
    the shopper (``nearest_first`` swaps the two). ``ship_from`` limits delivery to some
    kinds of location (e.g. warehouses only). Exact for small networks (every subset of
    1, 2, … locations is tried); past ``MAX_EXACT_CHECKS`` a greedy split.
    """

    nearest_first: bool = False
    ship_from: frozenset[str] | None = None

    def plan(
        self, request: AllocationRequest, locations: Sequence[LocationStock]
    ) -> AllocationPlan:
        lines = merge_lines(request.lines)
        if request.method == DeliveryMethod.PICKUP:
            return plan_pickup(lines, locations, store_id=request.store_id)
        candidates = [
            loc
            for loc in locations
            if loc.can_ship and (self.ship_from is None or loc.kind in self.ship_from)
        ]
        rank = _by_distance if self.nearest_first else _by_priority
        ranked = sorted(candidates, key=rank(request.origin))
        servable, shortages = _split_short_lines(lines, ranked, None)
        if not servable:
            return AllocationPlan(request.method, (), tuple(shortages))
        useful = [loc for loc in ranked if any(loc.units(line.sku_id) for line in servable)]
        group = _fewest_locations(servable, useful) or _greedy_locations(servable, useful)
        return AllocationPlan(request.method, _fill(servable, group), tuple(shortages))


def plan_pickup(
    lines: Sequence[BasketLine], locations: Sequence[LocationStock], *, store_id: int | None
) -> AllocationPlan:
    """Everything from the chosen store, or a shortage for each line it cannot serve."""
    store = next(
        (loc for loc in locations if loc.location_id == store_id and loc.offers_pickup), None
    )
    candidates = [store] if store is not None else []
    servable, shortages = _split_short_lines(merge_lines(lines), candidates, store_id)
    shipments = (PlannedShipment(store.location_id, tuple(servable)),) if store and servable else ()
    return AllocationPlan(DeliveryMethod.PICKUP, shipments, tuple(shortages))


def stores_serving_basket(
    lines: Sequence[BasketLine], locations: Sequence[LocationStock], *, origin: Coordinates | None
) -> list[LocationStock]:
    """Pick-up stores that hold the whole basket, nearest first (by priority if unknown)."""
    merged = merge_lines(lines)
    able = [loc for loc in locations if loc.offers_pickup and loc.holds(merged)]
    return sorted(able, key=_by_distance(origin))


class AllocationStrategy(Protocol):
    def plan(
        self, request: AllocationRequest, locations: Sequence[LocationStock]
    ) -> AllocationPlan: ...


DEFAULT_STRATEGY: AllocationStrategy = FewestShipmentsStrategy()
# Channel code → strategy. The storefront ("online") uses the default; an order taken in a
# store for home delivery ("stores", endless aisle) ships from the nearest location first.
_STRATEGIES: dict[str, AllocationStrategy] = {
    "online": DEFAULT_STRATEGY,
    "stores": FewestShipmentsStrategy(nearest_first=True),
}


def register_strategy(channel_code: str, strategy: AllocationStrategy) -> None:
    """Plug a channel's own rules in (e.g. a marketplace that ships from warehouses only:
    ``FewestShipmentsStrategy(ship_from=frozenset({"warehouse"}))``)."""
    _STRATEGIES[channel_code] = strategy


def strategy_for(channel_code: str) -> AllocationStrategy:
    return _STRATEGIES.get(channel_code, DEFAULT_STRATEGY)
