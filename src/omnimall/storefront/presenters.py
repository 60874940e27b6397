"""Presentation helpers for the storefront: URL state, canonical URLs, the variant picker,
schema.org data. Pure functions over selector dataclasses; no queries, no business rules.

The listing URL holds the whole state (facets, sort, cursor) so a page can be shared and
crawled; these helpers rebuild query strings from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from omnimall.catalog.domain import COLOURS
from omnimall.catalog.selectors import CategoryNode, ProductDetail, SkuView
from omnimall.checkout.selectors import delivery_time, province_names, zone_name

if TYPE_CHECKING:
    from omnimall.checkout.domain import ShippingRate

FACET_PARAMS = ("brand", "size", "colour", "price")
SORT_PARAM = "sort"
CURSOR_PARAM = "cursor"
SEARCH_PARAM = "q"
# Longer search text is cut: no shopper types more, and it bounds the work a request causes.
MAX_QUERY_LENGTH = 200
# Values per parameter we look at; the rest of an absurd query string is ignored.
MAX_VALUES_PER_PARAM = 20
MAX_PARAM_LENGTH = 200


_SORT_LABELS = {
    "relevance": _("Best match"),
    "popular": _("Most popular"),
    "price_asc": _("Price: low to high"),
    "price_desc": _("Price: high to low"),
    "newest": _("Newest"),
}


def listing_context(params: Mapping[str, list[str]], *, search: bool = False) -> dict[str, object]:
    """What the shared listing template needs besides the page itself."""
    keys = ("relevance", "popular", "price_asc", "price_desc", "newest")
    return {
        "params": params,
        "sort_options": [(key, _SORT_LABELS[key]) for key in keys if search or key != "relevance"],
        "has_filters": any(params.get(key) for key in FACET_PARAMS),
    }


def fragment_key(*, version: int, parts: Iterable[object]) -> str:
    """A cache key for a page's rendered body: the catalog version (bumped by every catalog
    or price change, so nothing stale is ever served) plus what the body depends on."""
    text = "\x1f".join(str(part) for part in parts)
    return f"{version}:{hashlib.blake2b(text.encode(), digest_size=12).hexdigest()}"


def format_money(value: Decimal | None) -> str:
    """¥1,299 or ¥99.50; an empty string when there is no price. CNY only for now."""
    if value is None:
        return ""
    text = f"{Decimal(value).quantize(Decimal('0.01')):,.2f}"
    return "¥" + (text[:-3] if text.endswith(".00") else text)


def clean_text(value: str) -> str:
    """Without NUL characters: PostgreSQL refuses them in any string parameter."""
    return value.replace("\x00", "")


def listing_params(request: HttpRequest) -> dict[str, list[str]]:
    """The request's query string as lists, trimmed to sane sizes (never raises)."""
    params: dict[str, list[str]] = {}
    for key, values in request.GET.lists():
        if len(key) > 40:
            continue
        params[clean_text(key)] = [
            clean_text(v[:MAX_PARAM_LENGTH]) for v in values[:MAX_VALUES_PER_PARAM]
        ]
    return params


def search_text(request: HttpRequest) -> str:
    return " ".join(clean_text(request.GET.get(SEARCH_PARAM, "")).split())[:MAX_QUERY_LENGTH]


def _encode(params: Mapping[str, Iterable[str]]) -> str:
    pairs = [(key, value) for key, values in params.items() for value in values if value != ""]
    return "?" + urlencode(pairs) if pairs else "?"


def url_with(
    params: Mapping[str, list[str]],
    *,
    replace: Mapping[str, str | None] | None = None,
    toggle: tuple[str, str] | None = None,
    keep_cursor: bool = False,
) -> str:
    """A query string from ``params`` with some values replaced or toggled.

    Changing the filter or the sort starts again from page 1, so the cursor is dropped
    unless the caller is building a pagination link.
    """
    state = {key: list(values) for key, values in params.items()}
    if not keep_cursor:
        state.pop(CURSOR_PARAM, None)
    for key, value in (replace or {}).items():
        state.pop(key, None)
        if value:
            state[key] = [value]
    if toggle:
        key, value = toggle
        values = state.setdefault(key, [])
        if value in values:
            values.remove(value)
        else:
            values.append(value)
    return _encode(state)


def canonical_url(request: HttpRequest, *, extra: Iterable[str] = ()) -> str:
    """Path plus the facets (sorted), never the cursor, sort or tracking parameters."""
    keep = (*FACET_PARAMS, *extra)
    params = {
        key: sorted(set(request.GET.getlist(key)))
        for key in sorted(keep)
        if request.GET.getlist(key)
    }
    query = _encode(params)
    return request.build_absolute_uri(request.path + (query if query != "?" else ""))


@dataclass(frozen=True, slots=True)
class Tile:
    node: CategoryNode
    parent: CategoryNode | None  # shown as context ("Women · T-shirts")


def featured_categories(nodes: Iterable[CategoryNode], *, limit: int = 8) -> list[Tile]:
    """Featured categories at any depth, tree order; the top level when none is featured."""
    roots = list(nodes)
    found: list[Tile] = []
    stack: list[tuple[CategoryNode, CategoryNode | None]] = [
        (root, None) for root in reversed(roots)
    ]
    while stack and len(found) < limit:
        node, parent = stack.pop()
        if node.is_featured:
            found.append(Tile(node, parent))
        stack.extend((child, node) for child in reversed(node.children))
    return found or [Tile(root, None) for root in roots[:limit]]


@dataclass(frozen=True, slots=True)
class VariantOption:
    value: str
    sku_code: str  # the SKU this option selects (keeping the other dimension when possible)
    selected: bool


@dataclass(frozen=True, slots=True)
class VariantPicker:
    selected: SkuView | None
    sizes: tuple[VariantOption, ...]
    colours: tuple[VariantOption, ...]


def variant_picker(
    *, skus: tuple[SkuView, ...], sizes: tuple[str, ...], colours: tuple[str, ...], sku_code: str
) -> VariantPicker:
    """The selected SKU (``?sku=`` or the first) and, per size and colour, the SKU a click
    on it selects; links work without JavaScript and the script mirrors the same rule."""
    if not skus:
        return VariantPicker(selected=None, sizes=(), colours=())
    wanted = sku_code.strip().upper()
    selected = next((s for s in skus if s.code.upper() == wanted), skus[0])

    def pick(*, size: str | None = None, colour: str | None = None) -> SkuView | None:
        exact = [
            s
            for s in skus
            if (size is None or s.size == size) and (colour is None or s.colour == colour)
        ]
        return exact[0] if exact else None

    size_options = []
    for size in sizes or tuple(dict.fromkeys(s.size for s in skus if s.size)):
        target = pick(size=size, colour=selected.colour) or pick(size=size)
        if target is not None:
            size_options.append(VariantOption(size, target.code, size == selected.size))
    colour_options = []
    for colour in colours or tuple(dict.fromkeys(s.colour for s in skus if s.colour)):
        target = pick(size=selected.size, colour=colour) or pick(colour=colour)
        if target is not None:
            colour_options.append(VariantOption(colour, target.code, colour == selected.colour))
    return VariantPicker(
        selected=selected, sizes=tuple(size_options), colours=tuple(colour_options)
    )


def skus_for_script(skus: Iterable[SkuView]) -> list[dict[str, str]]:
    """What the variant picker script needs: plain strings, prices already formatted."""
    return [
        {
            "code": s.code,
            "size": s.size,
            "colour": s.colour,
            "price": format_money(s.price),
            "list_price": format_money(s.list_price)
            if s.list_price is not None and s.price is not None and s.list_price > s.price
            else "",
        }
        for s in skus
    ]


def _absolute(request: HttpRequest, url: str) -> str:
    return url if url.startswith(("http://", "https://")) else request.build_absolute_uri(url)


def in_language(obj: object, field: str) -> str:
    """``obj.<field>_zh`` or ``_en`` (dicts too) in the active language, falling back."""

    def get(name: str) -> str:
        if isinstance(obj, Mapping):
            return str(obj.get(name) or "")
        return str(getattr(obj, name, "") or "")

    zh, en = get(f"{field}_zh"), get(f"{field}_en")
    return (zh or en) if (get_language() or "zh-hans").startswith("zh") else (en or zh)


def product_json_ld(
    *, request: HttpRequest, detail: ProductDetail, canonical: str
) -> dict[str, object]:
    """schema.org Product with one Offer per SKU that has a price."""
    offers = [
        {
            "@type": "Offer",
            "sku": sku.code,
            "price": f"{sku.price:.2f}",
            "priceCurrency": detail.currency,
            "availability": "https://schema.org/InStock",
            "url": f"{canonical}?sku={sku.code}",
        }
        for sku in detail.skus
        if isinstance(sku.price, Decimal)
    ]
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": in_language(detail, "name"),
        "description": in_language(detail, "description"),
        "url": canonical,
        "image": [_absolute(request, image.url) for image in detail.images],
        "brand": {"@type": "Brand", "name": in_language(detail, "brand_name")},
        "offers": offers,
    }
    if detail.skus:
        data["sku"] = detail.skus[0].code
    return data


def colour_hex(code: str) -> str:
    colour = COLOURS.get(code)
    return colour.hex if colour else "#cccccc"


@dataclass(frozen=True, slots=True)
class ShippingZoneRow:
    """One shipping zone as the delivery help page lists it."""

    name: str
    provinces: str  # their short names, in the page's language
    fee: Decimal
    free_from: Decimal | None  # None: never free
    delivers: bool
    delivery_time: str  # "Usually delivered in 2–4 days"; empty when the zone says none


def shipping_zone_rows(zones: Iterable[ShippingRate]) -> list[ShippingZoneRow]:
    """The zones the shop delivers to first (as listed), then those it does not."""
    separator = "、" if (get_language() or "zh-hans").startswith("zh") else ", "
    rows = [
        ShippingZoneRow(
            name=zone_name(zone),
            provinces=separator.join(province_names(zone.provinces)),
            fee=zone.fee,
            free_from=zone.free_from,
            delivers=zone.delivers,
            delivery_time=delivery_time(zone),
        )
        for zone in zones
    ]
    return sorted(rows, key=lambda row: not row.delivers)
