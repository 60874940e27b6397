"""Store API schemas for the catalog, and the functions that fill them from selector results.

``ProductPageOut`` (with ``product_page_out``) is the listing shape shared by
``GET /api/v1/products`` and ``GET /api/v1/search``, so one client model reads both.
Money is a string with two decimals ("199.00") next to a ``currency`` field: JSON numbers
are floats in most clients, and floats must never carry money.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import get_language
from ninja import Schema

from omnimall.core.money import quantize

from .domain import COLOURS
from .selectors import CategoryNode, ProductCard, ProductDetail, ProductPage


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(quantize(amount))


# --- output -------------------------------------------------------------------------------


class CategoryRefOut(Schema):
    id: int
    slug: str
    full_slug: str
    name: str
    name_en: str
    name_zh: str
    depth: int
    url: str


class CategoryOut(CategoryRefOut):
    is_featured: bool
    children: list[CategoryOut]


class CategoryTreeOut(Schema):
    categories: list[CategoryOut]


class ProductCardOut(Schema):
    id: int
    slug: str
    name: str
    name_en: str
    name_zh: str
    brand_name: str
    brand_name_en: str
    brand_name_zh: str
    price: str | None
    list_price: str | None
    currency: str
    image_url: str
    colours: list[str]
    url: str


class FacetValueOut(Schema):
    value: str
    label: str
    label_en: str
    label_zh: str
    count: int
    selected: bool


class FacetOut(Schema):
    code: str
    label: str
    label_en: str
    label_zh: str
    values: list[FacetValueOut]


class ProductPageOut(Schema):
    items: list[ProductCardOut]
    facets: list[FacetOut]
    total: int
    page_number: int
    page_count: int
    next_cursor: str | None
    prev_cursor: str | None
    sort: str


class BrandOut(Schema):
    slug: str
    name: str
    name_en: str
    name_zh: str


class ImageOut(Schema):
    url: str
    width: int | None
    height: int | None
    alt: str
    colour: str


class SkuOut(Schema):
    id: int
    code: str
    barcode: str | None
    size: str
    colour: str
    colour_name: str
    price: str | None
    list_price: str | None
    currency: str


class ProductDetailOut(Schema):
    id: int
    slug: str
    name: str
    name_en: str
    name_zh: str
    description: str
    description_en: str
    description_zh: str
    brand: BrandOut
    breadcrumbs: list[CategoryRefOut]
    attributes: list[dict[str, str]]
    images: list[ImageOut]
    skus: list[SkuOut]
    sizes: list[str]
    colours: list[str]
    price: str | None
    list_price: str | None
    currency: str
    url: str
    updated_at: str


# --- input --------------------------------------------------------------------------------


class ListingParams(Schema):
    """Listing filters, shared by the product list and search. Everything is text so junk
    never fails validation: the selectors drop unknown values, fall back to the default
    sort and clamp ``page_size`` (1–60). Facet parameters repeat (``brand=a&brand=b``)."""

    brand: list[str] = []
    size: list[str] = []
    colour: list[str] = []
    price: list[str] = []
    sort: str = ""
    cursor: str = ""
    page_size: str = ""


class ProductListParams(ListingParams):
    category: str = ""


# --- filling ------------------------------------------------------------------------------


def category_ref_out(node: CategoryNode) -> dict[str, Any]:
    return {
        "id": node.id, "slug": node.slug, "full_slug": node.full_slug, "name": node.name,
        "name_en": node.name_en, "name_zh": node.name_zh, "depth": node.depth,
        "url": f"/c/{node.full_slug}/",
    }  # fmt: skip


def category_out(node: CategoryNode) -> dict[str, Any]:
    return {
        **category_ref_out(node),
        "is_featured": node.is_featured,
        "children": [category_out(child) for child in node.children],
    }


def card_out(card: ProductCard) -> dict[str, Any]:
    return {
        "id": card.id, "slug": card.slug, "name": card.name, "name_en": card.name_en,
        "name_zh": card.name_zh, "brand_name": card.brand_name,
        "brand_name_en": card.brand_name_en, "brand_name_zh": card.brand_name_zh,
        "price": money(card.price), "list_price": money(card.list_price),
        "currency": settings.DEFAULT_CURRENCY, "image_url": card.image_url,
        "colours": list(card.colours), "url": f"/p/{card.slug}/",
    }  # fmt: skip


def product_page_out(page: ProductPage) -> dict[str, Any]:
    """The ``ProductPageOut`` body for a selector page (used by the search API too)."""
    return {
        "items": [card_out(card) for card in page.items],
        "facets": [
            {
                "code": f.code,
                "label": f.label,
                "label_en": f.label_en,
                "label_zh": f.label_zh,
                "values": [
                    {
                        "value": v.value,
                        "label": v.label,
                        "label_en": v.label_en,
                        "label_zh": v.label_zh,
                        "count": v.count,
                        "selected": v.selected,
                    }
                    for v in f.values
                ],
            }
            for f in page.facets
        ],
        "total": page.total,
        "page_number": page.page_number,
        "page_count": page.page_count,
        "next_cursor": page.next_cursor,
        "prev_cursor": page.prev_cursor,
        "sort": page.sort,
    }


def product_detail_out(detail: ProductDetail) -> dict[str, Any]:
    colour_names = {code: _pick(c.name_zh, c.name_en) for code, c in COLOURS.items()}
    return {
        "id": detail.id, "slug": detail.slug, "name": _pick(detail.name_zh, detail.name_en),
        "name_en": detail.name_en, "name_zh": detail.name_zh,
        "description": _pick(detail.description_zh, detail.description_en),
        "description_en": detail.description_en, "description_zh": detail.description_zh,
        "brand": {
            "slug": detail.brand_slug, "name": _pick(detail.brand_name_zh, detail.brand_name_en),
            "name_en": detail.brand_name_en, "name_zh": detail.brand_name_zh,
        },
        "breadcrumbs": [category_ref_out(node) for node in detail.category_path],
        "attributes": list(detail.attributes),
        "images": [
            {"url": i.url, "width": i.width, "height": i.height, "alt": i.alt,
             "colour": i.colour}
            for i in detail.images
        ],
        "skus": [
            {"id": s.id, "code": s.code, "barcode": s.barcode, "size": s.size,
             "colour": s.colour, "colour_name": colour_names.get(s.colour, s.colour),
             "price": money(s.price), "list_price": money(s.list_price),
             "currency": detail.currency}
            for s in detail.skus
        ],
        "sizes": list(detail.sizes), "colours": list(detail.colours),
        "price": money(detail.price), "list_price": money(detail.list_price),
        "currency": detail.currency, "url": f"/p/{detail.slug}/",
        "updated_at": detail.updated_at_iso,
    }  # fmt: skip


def _pick(zh: str, en: str) -> str:
    """The same language rule as the selector dataclasses' ``.name``."""
    return (zh or en) if (get_language() or "zh-hans").startswith("zh") else (en or zh)
