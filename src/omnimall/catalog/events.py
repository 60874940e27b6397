"""Events the catalog publishes (after COMMIT). Search re-indexes on them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProductsChanged:
    """Products created, edited, repriced or deleted; re-read them from the database."""

    product_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CategoriesChanged:
    """The category tree changed (names, slugs, order or shape)."""
