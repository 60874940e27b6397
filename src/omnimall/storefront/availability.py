"""What the product page's availability fragment and the store finder show: stores in
view, the city menu."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import get_language

from omnimall.inventory.domain import CITIES, find_city, same_city
from omnimall.inventory.selectors.allocation import PickupStore, ResolvedCity, SkuStock

STORES_SHOWN = 5  # the nearest ones; the rest fold under "All N stores"


@dataclass(frozen=True, slots=True)
class CityOption:
    value: str
    label: str
    selected: bool


def _label(name: str) -> str:
    known = find_city(name)
    if known is None:
        return name
    return known.name_zh if (get_language() or "").startswith("zh") else known.name_en


def city_options(
    *, cities: Iterable[str], city: ResolvedCity | None
) -> tuple[tuple[CityOption, ...], tuple[CityOption, ...]]:
    """(the stores' ``cities``, other known cities) for the city menu."""
    store_cities: list[str] = []
    for name in cities:
        if name and not any(same_city(name, seen) for seen in store_cities):
            store_cities.append(name)
    # The table's spelling where it knows the city, in the table's order (largest first).
    known = [c.name_en for c in CITIES if any(same_city(c.name_en, n) for n in store_cities)]
    unknown = [n for n in store_cities if find_city(n) is None]
    others = [c.name_en for c in CITIES if c.name_en not in known]

    def option(name: str) -> CityOption:
        chosen = city is not None and same_city(name, city.name_en)
        return CityOption(value=name, label=_label(name), selected=chosen)

    return tuple(option(n) for n in known + unknown), tuple(option(n) for n in others)


def availability_context(
    *, stock: SkuStock | None, city: ResolvedCity | None, city_query: str
) -> dict[str, Any]:
    stores = stock.stores if stock else ()
    if city is None:  # no distance to sort by: stores that have it first
        stores = tuple(sorted(stores, key=lambda s: s.available <= 0))
    with_stores, other_cities = city_options(cities=(s.store.city for s in stores), city=city)
    return {
        "stores_shown": stores[:STORES_SHOWN],
        "stores_more": stores[STORES_SHOWN:],
        "store_cities": with_stores,
        "other_cities": other_cities,
        "city_query": city_query,
        "city_unknown": bool(city_query) and city is None,
    }


def stores_by_city(
    stores: Sequence[PickupStore], cities: Sequence[CityOption]
) -> list[tuple[str, list[PickupStore]]]:
    """(city label, its stores) in the menu's order of ``cities``; cities without a store
    are left out."""
    groups = [(c.label, [s for s in stores if same_city(s.store.city, c.value)]) for c in cities]
    return [(label, rows) for label, rows in groups if rows]
