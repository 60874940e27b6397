"""Catalog reads shared by the storefront pages, the Store API and search.

CONTRACT (the storefront and search code against these names; keep them stable):
every function returns frozen dataclasses, never querysets, and decides its own query
shape. Bilingual dataclasses carry both texts; ``.name`` picks the active language.
The dataclasses live in ``catalog.readmodels`` and are re-exported here.

Caching: every cached value is keyed by the catalog cache version (bumped by
``catalog.services`` on each change), so a change is visible at the next request. The
version is one primary-key read, done once per request (``tree.catalog_version``).
Query building lives in ``listing`` (filters, keyset, cursors), ``facets`` and ``pages``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import OuterRef, Q, QuerySet, Subquery

from . import facets, listing
from .domain import COLOURS, PRICE_BANDS_BY_CODE, effective_price, lowest_prices, sort_sizes
from .models import Price, Product, ProductImage, Sku
from .pages import build_cards, build_page
from .readmodels import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SORTS,
    CategoryNode,
    Facet,
    FacetValue,
    ImageView,
    ListingQuery,
    ProductCard,
    ProductDetail,
    ProductPage,
    SkuView,
    _zh,
)
from .tree import CACHE_TIMEOUT, CategoryIndex, catalog_version, category_index

__all__ = [
    "DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "SORTS", "CategoryNode", "Facet", "FacetValue",
    "ImageView", "ListingQuery", "ProductCard", "ProductDetail", "ProductPage", "SkuView",
    "get_category", "get_category_tree", "get_product_detail", "list_featured_products",
    "list_products", "list_related_products", "parse_listing_query",
]  # fmt: skip

# --- parsing the URL state ---------------------------------------------------------

MAX_FACET_VALUES = 20
MAX_FACET_VALUE_LENGTH = 40
_SLUG_RE = re.compile(r"^[-\w]+$", re.ASCII)
# Reading a query string is bounded whatever its size ("brand" repeated 1000 times).
_MAX_RAW_VALUES = 100


def _raw_values(params: Mapping[str, Any], name: str) -> list[str]:
    raw = params.get(name) or []
    if isinstance(raw, str):
        raw = [raw]
    out: list[str] = []
    for item in list(raw)[:_MAX_RAW_VALUES]:
        if not isinstance(item, str):
            continue
        for part in item.split(",")[:MAX_FACET_VALUES]:
            value = part.strip()
            if value and len(value) <= MAX_FACET_VALUE_LENGTH and value.isprintable():
                if value not in out:
                    out.append(value)
                if len(out) >= MAX_FACET_VALUES:
                    return out
    return out


def _first(params: Mapping[str, Any], name: str) -> str:
    raw = params.get(name) or []
    if isinstance(raw, str):
        return raw
    first = next(iter(raw), "") if raw else ""
    return first if isinstance(first, str) else ""


def _effective_sort(sort: str, product_ids: tuple[int, ...] | None) -> str:
    default = "relevance" if product_ids is not None else "popular"
    if sort not in SORTS or (sort == "relevance" and product_ids is None):
        return default
    return sort


def _clamp_page_size(value: object) -> int:
    try:
        size = int(str(value).strip()[:6])
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return max(1, min(MAX_PAGE_SIZE, size))


def parse_listing_query(
    params: Mapping[str, list[str]],
    *,
    category_id: int | None = None,
    product_ids: tuple[int, ...] | None = None,
) -> ListingQuery:
    """Lenient: unknown sort → default, unknown facet values dropped, bad cursor → page 1,
    page size clamped to 1..MAX_PAGE_SIZE. Never raises on user input."""
    if product_ids is not None:
        product_ids = tuple(dict.fromkeys(int(pid) for pid in product_ids))
    sort = _effective_sort(_first(params, "sort").strip().lower(), product_ids)
    raw_size = _first(params, "page_size")
    cursor = _first(params, "cursor").strip() or None
    if listing.decode_cursor(cursor, sort=sort) is None:
        cursor = None
    return ListingQuery(
        category_id=category_id,
        product_ids=product_ids,
        brands=frozenset(v for v in _raw_values(params, "brand") if _SLUG_RE.match(v)),
        sizes=frozenset(_raw_values(params, "size")),
        colours=frozenset(v for v in _raw_values(params, "colour") if v in COLOURS),
        price_bands=frozenset(v for v in _raw_values(params, "price") if v in PRICE_BANDS_BY_CODE),
        sort=sort,
        cursor=cursor,
        page_size=_clamp_page_size(raw_size) if raw_size else DEFAULT_PAGE_SIZE,
    )


_CACHED_PAGES = 3
_MISSING = "-"  # cached "no such product", so junk slugs do not hit the database each time


def _version(request: object | None = None) -> int:
    return catalog_version(request)


def _digest(*parts: object) -> str:
    text = json.dumps(parts, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def get_category_tree(*, request: object | None = None) -> tuple[CategoryNode, ...]:
    """The active category tree (roots with nested children), cached per catalog version."""
    return category_index(_version(request)).roots


def get_category(
    full_slug: str, *, request: object | None = None
) -> tuple[CategoryNode, tuple[CategoryNode, ...]] | None:
    """(the node, its ancestors root-first) for a URL path, or None."""
    if not isinstance(full_slug, str) or len(full_slug) > 255:
        return None
    index = category_index(_version(request))
    node = index.by_slug.get(full_slug.strip("/"))
    return None if node is None else (node, index.ancestors[node.id])


# --- listings -----------------------------------------------------------------------------


def list_products(query: ListingQuery, *, request: object | None = None) -> ProductPage:
    """One page of a listing with facet counts; a bounded number of queries."""
    sort = _effective_sort(query.sort, query.product_ids)
    page_size = _clamp_page_size(query.page_size)
    version = _version(request)
    state = (
        query.category_id,
        _digest(query.product_ids) if query.product_ids is not None else None,
        *(sorted(v) for v in (query.brands, query.sizes, query.colours, query.price_bands)),
    )
    # Whole pages are cached only near the top of a listing, where the traffic is; deeper
    # pages cost one index range scan anyway, and caching every cursor would fill memory.
    cursor = listing.decode_cursor(query.cursor, sort=sort)
    cacheable = cursor is None or cursor.page <= _CACHED_PAGES
    page_key = f"catalog:page:{version}:{_digest(state, sort, query.cursor, page_size)}"
    page = cache.get(page_key) if cacheable else None
    if page is not None:
        return page
    filters = _filters(query, category_index(version))
    if filters is None:  # an unknown or hidden category: nothing to list
        return ProductPage((), (), 0, 1, 1, None, None, sort)
    facets_key = f"catalog:facets:{version}:{_digest(state)}"
    cached = cache.get(facets_key)
    if cached is None:  # then the store all workers share, then the database counts
        # Search results are not stored: their states are many and short-lived.
        shared = query.product_ids is None
        cached = facets.load_stored(facets_key) if shared else None
        if cached is None:
            cached = facets.compute_facets(filters, query)
            if shared:
                facets.store(facets_key, version, cached)
        cache.set(facets_key, cached, CACHE_TIMEOUT)
    facet_tuple, total = cached
    page = build_page(query, sort, page_size, filters, facet_tuple, total)
    if cacheable:
        cache.set(page_key, page, CACHE_TIMEOUT)
    return page


def _filters(query: ListingQuery, index: CategoryIndex) -> listing.Filters | None:
    category_ids = None
    if query.category_id is not None:
        category_ids = index.subtree_ids.get(query.category_id)
        if category_ids is None:
            return None
    return listing.Filters(
        category_ids=category_ids,
        hidden_category_ids=index.hidden_ids,
        product_ids=query.product_ids,
        brands=tuple(sorted(query.brands)),
        sizes=tuple(sorted(query.sizes)),
        colours=tuple(sorted(query.colours)),
        price_bands=tuple(sorted(b for b in query.price_bands if b in PRICE_BANDS_BY_CODE)),
    )


# --- product page and small lists -----------------------------------------------------------


def get_product_detail(slug: str, *, request: object | None = None) -> ProductDetail | None:
    """Product, brand, breadcrumbs, images, active SKUs with storefront prices: ≤ 5 queries."""
    if not isinstance(slug, str) or not slug or len(slug) > 120 or "\x00" in slug:
        return None  # a NUL (an API path's %00) is no slug, and PostgreSQL would refuse it
    version = _version(request)
    # Per language too: ImageView.alt holds the text of the language it was read in.
    key = f"catalog:product:{version}:{'zh' if _zh() else 'en'}:{_digest(slug)}"
    cached = cache.get(key)
    if cached is not None:
        return None if cached == _MISSING else cached
    detail = _load_product_detail(slug, category_index(version))
    cache.set(key, _MISSING if detail is None else detail, CACHE_TIMEOUT)
    return detail


def _load_product_detail(slug: str, index: CategoryIndex) -> ProductDetail | None:
    product = (
        Product.objects.select_related("brand")
        .filter(slug=slug, is_active=True, brand__is_active=True)
        .first()
    )
    if product is None or product.category_id not in index.by_id:
        return None
    node = index.by_id[product.category_id]
    storage = ProductImage._meta.get_field("image").storage
    images = tuple(
        ImageView(
            url=storage.url(name),
            width=width,
            height=height,
            alt=(alt_zh or alt_en) if _zh() else (alt_en or alt_zh),
            alt_en=alt_en,
            alt_zh=alt_zh,
            colour=colour,
        )
        for name, width, height, alt_en, alt_zh, colour in ProductImage.objects.filter(
            product_id=product.pk
        )
        .order_by("position", "id")
        .values_list("image", "width", "height", "alt_en", "alt_zh", "colour")
        if name
    )
    skus, currency = _skus_with_prices(product.pk)
    price, list_price = lowest_prices(
        (s.list_price, s.price) for s in skus if s.list_price is not None
    )
    attributes = tuple(
        {str(k): str(v) for k, v in a.items()}
        for a in (product.attributes if isinstance(product.attributes, list) else [])
        if isinstance(a, dict)
    )
    return ProductDetail(
        id=product.pk,
        slug=product.slug,
        name_en=product.name_en,
        name_zh=product.name_zh,
        description_en=product.description_en,
        description_zh=product.description_zh,
        brand_slug=product.brand.slug,
        brand_name_en=product.brand.name_en,
        brand_name_zh=product.brand.name_zh,
        category_path=(*index.ancestors[node.id], node),
        attributes=attributes,
        images=images,
        skus=skus,
        sizes=tuple(sort_sizes(s.size for s in skus if s.size)),
        colours=tuple(dict.fromkeys(s.colour for s in skus if s.colour)),
        price=price,
        list_price=list_price,
        currency=currency,
        updated_at_iso=product.updated_at.isoformat(),
    )


def _skus_with_prices(product_id: int) -> tuple[tuple[SkuView, ...], str]:
    """Active SKUs with their storefront price, in one query (a correlated subquery each)."""
    prices = Price.objects.filter(
        sku_id=OuterRef("pk"), price_list__channel__code=settings.STOREFRONT_CHANNEL
    )
    rows = (
        Sku.objects.filter(product_id=product_id, is_active=True)
        .annotate(
            lp=Subquery(prices.values("list_price")[:1]),
            sp=Subquery(prices.values("sale_price")[:1]),
            cur=Subquery(prices.values("price_list__currency")[:1]),
        )
        .order_by("position", "id")
        .values_list("id", "code", "barcode", "size", "colour", "lp", "sp", "cur")
    )
    currency = settings.DEFAULT_CURRENCY
    skus = []
    for pk, code, barcode, size, colour, lp, sp, cur in rows:
        currency = cur or currency
        skus.append(
            SkuView(
                id=pk,
                code=code,
                barcode=barcode,
                size=size,
                colour=colour,
                price=None if lp is None else effective_price(lp, sp),
                list_price=lp,
            )
        )
    return tuple(skus), currency


def list_related_products(
    *, product_id: int, limit: int = 8, request: object | None = None
) -> tuple[ProductCard, ...]:
    """Popular products of the same category, without the product itself."""
    limit = max(1, min(MAX_PAGE_SIZE, int(limit)))
    key = f"catalog:related:{_version(request)}:{int(product_id)}:{limit}"
    cards = cache.get(key)
    if cards is None:
        category = Product.objects.filter(pk=product_id).values("category_id")[:1]
        rows = (
            Product.objects.filter(
                is_active=True, brand__is_active=True, category_id=Subquery(category)
            )
            .exclude(pk=product_id)
            .order_by(*listing.ordering("popular", forward=True))
            .values(*listing.CARD_FIELDS)[:limit]
        )
        cards = build_cards(list(rows))
        cache.set(key, cards, CACHE_TIMEOUT)
    return cards


def list_featured_products(
    *, limit: int = 12, request: object | None = None
) -> tuple[ProductCard, ...]:
    """Popular products from the featured categories (all categories when none is)."""
    limit = max(1, min(MAX_PAGE_SIZE, int(limit)))
    version = _version(request)
    key = f"catalog:featured:{version}:{limit}"
    cards = cache.get(key)
    if cards is None:
        index = category_index(version)
        featured = [n.id for n in index.by_id.values() if n.is_featured]
        ids = sorted({i for n in featured for i in index.subtree_ids[n]}) or None
        filters = listing.Filters(
            category_ids=tuple(ids) if ids else None,
            hidden_category_ids=index.hidden_ids,
            product_ids=None,
        )
        rows = (
            listing.product_queryset(filters)
            .order_by(*listing.ordering("popular", forward=True))
            .values(*listing.CARD_FIELDS)[:limit]
        )
        cards = build_cards(list(rows))
        cache.set(key, cards, CACHE_TIMEOUT)
    return cards


def get_hidden_category_ids(*, request: object | None = None) -> frozenset[int]:
    """Categories shoppers cannot see: inactive ones and everything under them."""
    return frozenset(category_index(_version(request)).hidden_ids)


def list_sitemap_products() -> QuerySet[Product, Any]:
    """Visible products as ``{"slug", "updated_at"}`` rows, ordered by id.

    The one selector that returns a lazy queryset: the sitemap framework slices and
    counts it page by page, so no sitemap page loads the whole catalog.
    """
    filters = listing.Filters(
        category_ids=None,
        hidden_category_ids=category_index(_version()).hidden_ids,
        product_ids=None,
    )
    return listing.base_queryset(filters).order_by("id").values("slug", "updated_at")


def sku_exists(*, sku_id: int) -> bool:
    """Whether a SKU with this id exists (active or not): for other apps' integrity checks."""
    return Sku.objects.filter(pk=sku_id).exists()


def sku_ids_by_code(*, codes: Iterable[str], chunk_size: int = 5000) -> dict[str, int]:
    """``{code: id}`` for the given SKU codes that exist (active or not), a few queries.

    For integrations that name SKUs by code (stock reports, nightly stock files).
    """
    wanted = list(dict.fromkeys(codes))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), chunk_size):
        chunk = wanted[start : start + chunk_size]
        found.update(Sku.objects.filter(code__in=chunk).values_list("code", "pk"))
    return found


def sku_ids_by_code_or_barcode(codes: set[str]) -> dict[str, int]:
    """``{typed code: sku id}`` for codes or barcodes that exist (case-insensitive code).

    For staff typing or scanning what is on a label; integrations use ``sku_ids_by_code``.
    """
    if not codes:
        return {}
    wanted = codes | {code.upper() for code in codes}
    rows = Sku.objects.filter(Q(code__in=wanted) | Q(barcode__in=codes)).values_list(
        "pk", "code", "barcode"
    )
    found: dict[str, int] = {}
    for pk, code, barcode in rows:
        for typed in codes:
            if typed in (code, barcode) or typed.upper() == code:
                found[typed] = pk
    return found
