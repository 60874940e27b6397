"""Catalog reads shared by the storefront pages, the Store API and search.

CONTRACT (the storefront and search code against these names; keep them stable):
every function returns frozen dataclasses, never querysets, and decides its own query
shape. Bilingual dataclasses carry both texts; ``.name`` picks the active language.

Caching: every cached value is keyed by the catalog cache version (bumped by
``catalog.services`` on each change), so a change is visible at the next request. Public
readers take an optional ``request`` so the version is read once per request.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import OuterRef, Subquery
from django.utils.translation import get_language

from omnimall.core.cache_versions import current_version

from . import listing
from .domain import (
    COLOURS,
    PRICE_BANDS,
    PRICE_BANDS_BY_CODE,
    effective_price,
    lowest_prices,
    sort_sizes,
)
from .models import Category, Price, Product, ProductImage, Sku
from .services import CATALOG_CACHE_NAMESPACE

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
    alt: str
    colour: str


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


# --- the category tree -------------------------------------------------------------------

_CACHE_TIMEOUT = 60 * 60  # keys carry the catalog version, so this only bounds memory
_MISSING = "-"  # cached "no such product", so junk slugs do not hit the database each time


def _version(request: object | None = None) -> int:
    return current_version(CATALOG_CACHE_NAMESPACE, request)


def _digest(*parts: object) -> str:
    text = json.dumps(parts, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class _CategoryIndex:
    """The cached tree plus lookups derived from it (built once per process and version)."""

    __slots__ = ("ancestors", "by_id", "by_slug", "hidden_ids", "roots", "subtree_ids")

    def __init__(self, roots: tuple[CategoryNode, ...], hidden_ids: tuple[int, ...]) -> None:
        self.roots = roots
        self.hidden_ids = hidden_ids
        self.by_id: dict[int, CategoryNode] = {}
        self.by_slug: dict[str, CategoryNode] = {}
        self.ancestors: dict[int, tuple[CategoryNode, ...]] = {}
        self.subtree_ids: dict[int, tuple[int, ...]] = {}
        for root in roots:
            self._walk(root, ())

    def _walk(self, node: CategoryNode, ancestors: tuple[CategoryNode, ...]) -> tuple[int, ...]:
        self.by_id[node.id] = node
        self.by_slug[node.full_slug] = node
        self.ancestors[node.id] = ancestors
        ids = [node.id]
        for child in node.children:
            ids.extend(self._walk(child, (*ancestors, node)))
        self.subtree_ids[node.id] = tuple(ids)
        return self.subtree_ids[node.id]


def _load_tree() -> tuple[tuple[CategoryNode, ...], tuple[int, ...]]:
    """Every category in one query; inactive ones hide their whole subtree."""
    rows = list(
        Category.objects.order_by("path").values_list(
            "id",
            "path",
            "depth",
            "slug",
            "full_slug",
            "name_en",
            "name_zh",
            "is_featured",
            "is_active",
        )
    )
    step = Category.steplen
    visible = set()
    for _id, path, depth, *_rest, active in rows:
        if active and (depth == 1 or path[:-step] in visible):
            visible.add(path)
    children: dict[str, list[CategoryNode]] = {}
    hidden: list[int] = []
    # Reverse path order visits children before their parent, so nodes build bottom-up.
    for pk, path, depth, slug, full_slug, name_en, name_zh, featured, _active in reversed(rows):
        if path not in visible:
            hidden.append(pk)
            continue
        node = CategoryNode(
            id=pk,
            slug=slug,
            full_slug=full_slug,
            name_en=name_en,
            name_zh=name_zh,
            depth=depth,
            is_featured=featured,
            children=tuple(reversed(children.pop(path, []))),
        )
        children.setdefault(path[:-step], []).append(node)
    return tuple(reversed(children.get("", []))), tuple(sorted(hidden))


_index_memo: dict[str, tuple[tuple[str, int], _CategoryIndex]] = {}


def _category_index(version: int) -> _CategoryIndex:
    # The per-process memo saves unpickling the tree on every request. Its key includes a
    # token kept in the shared cache, so clearing the cache also drops every process's memo.
    token = cache.get("catalog:memo-token")
    if token is None:
        token = uuid.uuid4().hex
        cache.set("catalog:memo-token", token, None)
    memo = _index_memo.get("tree")
    if memo is not None and memo[0] == (token, version):
        return memo[1]
    key = f"catalog:tree:{version}"
    loaded = cache.get(key)
    if loaded is None:
        loaded = _load_tree()
        cache.set(key, loaded, _CACHE_TIMEOUT)
    index = _CategoryIndex(*loaded)
    _index_memo["tree"] = ((token, version), index)
    return index


def get_category_tree(*, request: object | None = None) -> tuple[CategoryNode, ...]:
    """The active category tree (roots with nested children), cached per catalog version."""
    return _category_index(_version(request)).roots


def get_category(
    full_slug: str, *, request: object | None = None
) -> tuple[CategoryNode, tuple[CategoryNode, ...]] | None:
    """(the node, its ancestors root-first) for a URL path, or None."""
    if not isinstance(full_slug, str) or len(full_slug) > 255:
        return None
    index = _category_index(_version(request))
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
    page_key = f"catalog:page:{version}:{_digest(state, sort, query.cursor, page_size)}"
    page = cache.get(page_key)
    if page is not None:
        return page  # type: ignore[no-any-return]
    filters = _filters(query, _category_index(version))
    if filters is None:  # an unknown or hidden category: nothing to list
        return ProductPage((), (), 0, 1, 1, None, None, sort)
    facets_key = f"catalog:facets:{version}:{_digest(state)}"
    cached = cache.get(facets_key)
    if cached is None:
        cached = _compute_facets(filters, query)
        cache.set(facets_key, cached, _CACHE_TIMEOUT)
    facet_tuple, total = cached
    page = _build_page(query, sort, page_size, filters, facet_tuple, total)
    cache.set(page_key, page, _CACHE_TIMEOUT)
    return page


def _filters(query: ListingQuery, index: _CategoryIndex) -> listing.Filters | None:
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


def _build_page(
    query: ListingQuery,
    sort: str,
    size: int,
    filters: listing.Filters,
    facet_tuple: tuple[Facet, ...],
    total: int,
) -> ProductPage:
    cursor = listing.decode_cursor(query.cursor, sort=sort)
    if sort == "relevance":
        rows, page_no, has_prev, has_next, key_of, total = _relevance_rows(filters, cursor, size)
    else:
        rows, page_no, has_prev, has_next = _keyset_rows(filters, sort, cursor, size)

        def key_of(row: dict[str, Any]) -> Any:
            return listing.sort_value(sort, row)

    page_count = max(1, math.ceil(total / size))
    first, last = (rows[0], rows[-1]) if rows else (None, None)
    return ProductPage(
        items=_cards(rows),
        facets=facet_tuple,
        total=total,
        page_number=max(1, min(page_no, page_count)),
        page_count=page_count,
        next_cursor=listing.encode_cursor(
            sort=sort, forward=True, page=page_no + 1, key=key_of(last), pk=last["id"]
        )
        if has_next and last
        else None,
        prev_cursor=listing.encode_cursor(
            sort=sort, forward=False, page=max(1, page_no - 1), key=key_of(first), pk=first["id"]
        )
        if has_prev and first
        else None,
        sort=sort,
    )


def _keyset_rows(
    filters: listing.Filters, sort: str, cursor: listing.Cursor | None, size: int
) -> tuple[list[dict[str, Any]], int, bool, bool]:
    """(rows, page number, has previous, has next): an index range scan, no OFFSET."""
    qs = listing.product_queryset(filters)
    if cursor is not None:
        forward = cursor.forward
        qs = qs.filter(listing.keyset_q(sort, value=cursor.key, pk=cursor.pk, forward=forward))
    else:
        forward = True
    rows = list(
        qs.order_by(*listing.ordering(sort, forward=forward)).values(*listing.CARD_FIELDS)[
            : size + 1
        ]
    )
    more = len(rows) > size
    rows = rows[:size]
    if cursor is None:
        return rows, 1, False, more
    if forward:
        return rows, cursor.page, True, more
    if len(rows) < size:  # the rows before the cursor shrank since: start over at page 1
        return _keyset_rows(filters, sort, None, size)
    rows.reverse()
    return rows, (cursor.page if more else 1), more, True


def _relevance_rows(
    filters: listing.Filters, cursor: listing.Cursor | None, size: int
) -> tuple[list[dict[str, Any]], int, bool, bool, Callable[[dict[str, Any]], int], int]:
    """Search results in the order the search backend ranked them; the key is the rank."""
    position = {pid: i for i, pid in enumerate(filters.product_ids or ())}
    matching = set(listing.product_queryset(filters).values_list("id", flat=True))
    ordered = [pid for pid in position if pid in matching]
    page_no, has_prev, has_next = 1, False, len(ordered) > size
    page_ids = ordered[:size]
    if cursor is not None and cursor.forward:
        after = [pid for pid in ordered if position[pid] > cursor.key]
        page_ids, page_no, has_prev, has_next = after[:size], cursor.page, True, len(after) > size
    elif cursor is not None:
        before = [pid for pid in ordered if position[pid] < cursor.key]
        if len(before) >= size:
            page_ids, has_next = before[-size:], True
            has_prev = len(before) > size
            page_no = cursor.page if has_prev else 1
    by_id = (
        {
            row["id"]: row
            for row in Product.objects.filter(id__in=page_ids).values(*listing.CARD_FIELDS)
        }
        if page_ids
        else {}
    )
    rows = [by_id[pid] for pid in page_ids if pid in by_id]

    def key_of(row: dict[str, Any]) -> int:
        return position[row["id"]]

    return rows, page_no, has_prev, has_next, key_of, len(ordered)


def _cards(rows: list[dict[str, Any]]) -> tuple[ProductCard, ...]:
    colours, images = listing.fetch_assets([row["id"] for row in rows])
    storage = ProductImage._meta.get_field("image").storage  # type: ignore[union-attr]
    return tuple(
        ProductCard(
            id=row["id"],
            slug=row["slug"],
            name_en=row["name_en"],
            name_zh=row["name_zh"],
            brand_name_en=row["brand__name_en"],
            brand_name_zh=row["brand__name_zh"],
            price=row["display_price"],
            list_price=row["display_list_price"],
            image_url=storage.url(images[row["id"]]) if row["id"] in images else "",
            colours=tuple(colours.get(row["id"], ())),
        )
        for row in rows
    )


# --- facets ------------------------------------------------------------------------------

_ONE_SIZE = {"ONE": ("One size", "均码")}


def _compute_facets(f: listing.Filters, query: ListingQuery) -> tuple[tuple[Facet, ...], int]:
    """Four GROUP BY queries; each facet counts with every OTHER selected facet applied."""
    brand_rows = listing.count_brands(f)
    # Every product has exactly one brand, so the brand counts also give the total.
    total = sum(n for slug, _en, _zh, n in brand_rows if not f.brands or slug in f.brands)
    brand_rows.sort(key=lambda r: (-r[3], r[1].lower(), r[0]))
    present = {slug for slug, *_ in brand_rows}
    brands = [
        FacetValue(slug, en, zh, n, slug in query.brands) for slug, en, zh, n in brand_rows
    ] + [FacetValue(slug, slug, slug, 0, True) for slug in sorted(query.brands - present)]

    size_counts = listing.count_sku_field(f, "size")
    sizes = [
        FacetValue(s, *_ONE_SIZE.get(s, (s, s)), size_counts.get(s, 0), s in query.sizes)
        for s in sort_sizes({*size_counts, *query.sizes})
    ]
    colour_counts = listing.count_sku_field(f, "colour")
    known = [c for c in COLOURS if c in colour_counts or c in query.colours]
    colours = [
        FacetValue(
            code,
            COLOURS[code].name_en if code in COLOURS else code,
            COLOURS[code].name_zh if code in COLOURS else code,
            colour_counts.get(code, 0),
            code in query.colours,
        )
        for code in known + sorted(set(colour_counts) - set(COLOURS))
    ]
    band_counts = listing.count_price_bands(f)
    bands = [
        FacetValue(
            b.code,
            b.label,
            b.label if b.high else f"¥{b.low}以上",
            band_counts.get(b.code, 0),
            b.code in query.price_bands,
        )
        for b in PRICE_BANDS
        if b.code in band_counts or b.code in query.price_bands
    ]
    return (
        Facet("brand", "Brand", "品牌", tuple(brands)),
        Facet("size", "Size", "尺码", tuple(sizes)),
        Facet("colour", "Colour", "颜色", tuple(colours)),
        Facet("price", "Price", "价格", tuple(bands)),
    ), total


# --- product page and small lists -----------------------------------------------------------


def get_product_detail(slug: str, *, request: object | None = None) -> ProductDetail | None:
    """Product, brand, breadcrumbs, images, active SKUs with storefront prices: ≤ 5 queries."""
    if not isinstance(slug, str) or not slug or len(slug) > 120:
        return None
    version = _version(request)
    key = f"catalog:product:{version}:{_digest(slug)}"
    cached = cache.get(key)
    if cached is not None:
        return None if cached == _MISSING else cached  # type: ignore[no-any-return]
    detail = _load_product_detail(slug, _category_index(version))
    cache.set(key, _MISSING if detail is None else detail, _CACHE_TIMEOUT)
    return detail


def _load_product_detail(slug: str, index: _CategoryIndex) -> ProductDetail | None:
    product = (
        Product.objects.select_related("brand")
        .filter(slug=slug, is_active=True, brand__is_active=True)
        .first()
    )
    if product is None or product.category_id not in index.by_id:
        return None
    node = index.by_id[product.category_id]
    storage = ProductImage._meta.get_field("image").storage  # type: ignore[union-attr]
    images = tuple(
        ImageView(
            url=storage.url(name),
            width=width,
            height=height,
            alt=(alt_zh or alt_en) if _zh() else (alt_en or alt_zh),
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
        cards = _cards(list(rows))
        cache.set(key, cards, _CACHE_TIMEOUT)
    return cards  # type: ignore[no-any-return]


def list_featured_products(
    *, limit: int = 12, request: object | None = None
) -> tuple[ProductCard, ...]:
    """Popular products from the featured categories (all categories when none is)."""
    limit = max(1, min(MAX_PAGE_SIZE, int(limit)))
    version = _version(request)
    key = f"catalog:featured:{version}:{limit}"
    cards = cache.get(key)
    if cards is None:
        index = _category_index(version)
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
        cards = _cards(list(rows))
        cache.set(key, cards, _CACHE_TIMEOUT)
    return cards  # type: ignore[no-any-return]
