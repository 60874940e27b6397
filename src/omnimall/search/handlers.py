"""Reactions to catalog events: keep the search index in step without a rebuild."""

from __future__ import annotations

from omnimall.catalog.events import CategoriesChanged, ProductsChanged

from . import services


def on_products_changed(event: ProductsChanged) -> None:
    services.reindex_products_quietly(product_ids=event.product_ids)


def on_categories_changed(event: CategoriesChanged) -> None:
    services.reindex_changed_categories_quietly()
