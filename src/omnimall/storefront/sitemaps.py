"""sitemap.xml: the home page, every category and every active product.

Products are many (100k in the benchmarks), so that section is paginated by the sitemap
framework (``limit`` URLs a page) and listed in a sitemap index.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse

from omnimall.catalog import selectors
from omnimall.catalog.models import Product


class HomeSitemap(Sitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self) -> list[str]:
        return ["storefront:home"]

    def location(self, item: str) -> str:
        return reverse(item)


def _walk(nodes: Sequence[selectors.CategoryNode]) -> Iterator[selectors.CategoryNode]:
    for node in nodes:
        yield node
        yield from _walk(node.children)


class CategorySitemap(Sitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self) -> list[selectors.CategoryNode]:
        return list(_walk(selectors.get_category_tree()))

    def location(self, item: selectors.CategoryNode) -> str:
        return reverse("storefront:category", args=[item.full_slug])


class ProductSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6
    limit = 5000

    def items(self) -> QuerySet[Product, Any]:
        # Only products a shopper can open (active, brand active, category visible).
        return selectors.list_sitemap_products()

    def location(self, item: dict[str, Any]) -> str:
        return reverse("storefront:product", args=[item["slug"]])

    def lastmod(self, item: dict[str, Any]) -> datetime:
        return item["updated_at"]


SITEMAPS = {"home": HomeSitemap, "categories": CategorySitemap, "products": ProductSitemap}
