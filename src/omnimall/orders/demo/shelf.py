"""What the demo history's shoppers buy: the storefront's popular products, among the
SKUs that have stock to spare.

Read through the catalog's and inventory's selectors, as the shop's pages read them: the
first listing pages (most popular first), a product's SKUs with their storefront price
once it is first chosen, and those SKUs' stock per location. A SKU is chosen only when
the order leaves units of it behind: at a warehouse that can ship the whole basket for a
delivery (the allocation prefers it: fewest parcels, then the warehouses' priority), at
the store for a pick-up, and across the shop. So the history sells stock but never
sells a SKU out.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from omnimall.catalog import selectors as catalog
from omnimall.catalog.readmodels import MAX_PAGE_SIZE, ListingQuery
from omnimall.inventory.selectors.stock import SkuAvailability, list_sku_availability

PAGES = 2  # the most popular MAX_PAGE_SIZE × PAGES products are on the shelf
LEFT_AT_WAREHOUSE = 2  # units a delivery leaves at the warehouse, at least
LEFT_AT_STORE = 1  # units a pick-up leaves at its store, at least
LEFT_IN_SHOP = 3  # units a SKU keeps across the shop, at least
TRIES = 60


@dataclass(frozen=True, slots=True)
class Pick:
    sku_id: int
    quantity: int


class Shelf:
    """The products on offer and what is left of them (``refresh`` after each order)."""

    def __init__(self, *, channel_code: str, stores: frozenset[int]) -> None:
        self.channel_code = channel_code
        self.stores = stores  # the pick-up stores' location ids
        self.slugs: list[str] = []
        cursor: str | None = None
        for _ in range(PAGES):
            page = catalog.list_products(ListingQuery(page_size=MAX_PAGE_SIZE, cursor=cursor))
            self.slugs += [card.slug for card in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        # The first products sell most (the listing is most popular first).
        self.weights = [1 / (rank + 10) for rank in range(len(self.slugs))]
        self.skus: dict[str, list[int]] = {}  # slug → priced SKU ids, read when first chosen
        self.stock: dict[int, SkuAvailability] = {}

    def __bool__(self) -> bool:
        return bool(self.slugs)

    def _skus(self, slug: str) -> list[int]:
        if slug not in self.skus:
            detail = catalog.get_product_detail(slug)
            skus = detail.skus if detail is not None else ()
            self.skus[slug] = [s.id for s in skus if s.price is not None and s.price > 0]
            self.refresh(self.skus[slug])
        return self.skus[slug]

    def refresh(self, sku_ids: Sequence[int]) -> None:
        if sku_ids:
            self.stock.update(
                list_sku_availability(sku_ids=list(sku_ids), channel_code=self.channel_code)
            )

    def _spare(self, sku_id: int, quantity: int, location_id: int) -> bool:
        stock = self.stock.get(sku_id)
        if stock is None or stock.available < quantity + LEFT_IN_SHOP:
            return False
        left = LEFT_AT_STORE if location_id in self.stores else LEFT_AT_WAREHOUSE
        return any(
            row.location_id == location_id and row.available >= quantity + left
            for row in stock.locations
        )

    def pick(
        self, rng: random.Random, quantities: Sequence[int], *, location_id: int
    ) -> list[Pick]:
        """A SKU for each of ``quantities`` (different SKUs), all with units to spare at
        ``location_id``; fewer lines when the shelf runs short there, none at worst."""
        picks: list[Pick] = []
        for quantity in quantities:
            for _ in range(TRIES):
                skus = self._skus(rng.choices(self.slugs, weights=self.weights)[0])
                sku_id = rng.choice(skus) if skus else None
                if (
                    sku_id is not None
                    and all(p.sku_id != sku_id for p in picks)
                    and self._spare(sku_id, quantity, location_id)
                ):
                    picks.append(Pick(sku_id, quantity))
                    break
        return picks
