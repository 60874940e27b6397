"""The frozen dataclasses catalog selectors return (re-exported by ``catalog.selectors``).

Pages, the Store API and search read these, never querysets. Bilingual dataclasses carry
both texts; ``.name`` picks the active language, so one cached value serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import get_language

SORTS = ("popular", "price_asc", "price_desc", "newest", "relevance")
DEFAULT_PAGE_SIZE = 24
MAX_PAGE_SIZE = 60


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


@dataclass(frozen=True, slots=True)
class CategoryNode:
    id: int
    slug: str
    full_slug: str  # URL path: /c/<full_slug>/
    name_en: str
    name_zh: str
    depth: int  # 1 for roots
    is_featured: bool
    children: tuple[CategoryNode, ...] = ()

    @property
    def name(self) -> str:
        return (self.name_zh or self.name_en) if _zh() else (self.name_en or self.name_zh)


@dataclass(frozen=True, slots=True)
class ProductCard:
    id: int
    slug: str
    name_en: str
    name_zh: str
    brand_name_en: str
    brand_name_zh: str
    price: Decimal | None  # lowest current price in the storefront channel
    list_price: Decimal | None  # the list price of that offer (shown struck through if higher)
    image_url: str  # "" when the product has no image
    colours: tuple[str, ...] = ()  # colour codes, for swatches

    @property
    def name(self) -> str:
        return (self.name_zh or self.name_en) if _zh() else (self.name_en or self.name_zh)

    @property
    def brand_name(self) -> str:
        return (
            (self.brand_name_zh or self.brand_name_en)
            if _zh()
            else (self.brand_name_en or self.brand_name_zh)
        )


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str  # the URL value: brand slug, size, colour code, price band code
    label_en: str
    label_zh: str
    count: int  # products matching every other selected facet plus this value
    selected: bool

    @property
    def label(self) -> str:
        return self.label_zh if _zh() else self.label_en


@dataclass(frozen=True, slots=True)
class Facet:
    code: str  # "brand", "size", "colour", "price" — also the URL parameter name
    label_en: str
    label_zh: str
    values: tuple[FacetValue, ...]

    @property
    def label(self) -> str:
        return self.label_zh if _zh() else self.label_en


@dataclass(frozen=True, slots=True)
class ListingQuery:
    """Everything that selects one page of a listing; parsed from the URL query string."""

    category_id: int | None = None
    # Search: only these products, in this (relevance) order. None = no restriction.
    product_ids: tuple[int, ...] | None = None
    brands: frozenset[str] = frozenset()
    sizes: frozenset[str] = frozenset()
    colours: frozenset[str] = frozenset()
    price_bands: frozenset[str] = frozenset()
    sort: str = "popular"
    cursor: str | None = None  # opaque keyset cursor from ProductPage.next_cursor/prev_cursor
    page_size: int = DEFAULT_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class ProductPage:
    items: tuple[ProductCard, ...]
    facets: tuple[Facet, ...]
    total: int  # products matching the query (all pages)
    page_number: int  # 1-based, for display ("page 3 of 40")
    page_count: int
    next_cursor: str | None
    prev_cursor: str | None
    sort: str


@dataclass(frozen=True, slots=True)
class SkuView:
    id: int
    code: str
    barcode: str | None
    size: str
    colour: str  # colour code
    price: Decimal | None
    list_price: Decimal | None


@dataclass(frozen=True, slots=True)
class ImageView:
    url: str
    width: int | None
    height: int | None
    alt: str  # in the language active when read (the product cache is per language)
    colour: str
    alt_en: str = ""
    alt_zh: str = ""


@dataclass(frozen=True, slots=True)
class ProductDetail:
    id: int
    slug: str
    name_en: str
    name_zh: str
    description_en: str
    description_zh: str
    brand_slug: str
    brand_name_en: str
    brand_name_zh: str
    category_path: tuple[CategoryNode, ...]  # root first: the breadcrumbs
    attributes: tuple[dict[str, str], ...]
    images: tuple[ImageView, ...]
    skus: tuple[SkuView, ...]
    sizes: tuple[str, ...]  # in size order
    colours: tuple[str, ...]
    price: Decimal | None
    list_price: Decimal | None
    currency: str = "CNY"
    updated_at_iso: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)
