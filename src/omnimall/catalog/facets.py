"""Facet counts (disjunctive): each facet counts with every OTHER selected facet applied.

One query (four GROUP BYs under UNION ALL); the caller caches per query state and version.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta
from typing import Any

from django.db import DatabaseError, connection
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When

from omnimall.core import clock

from .domain import COLOURS, PRICE_BANDS, sort_sizes
from .listing import Filters, band_q, base_queryset, product_queryset
from .models import ListingFacetCache, Product, Sku
from .readmodels import Facet, FacetValue, ListingQuery

_COLUMNS = ("kind", "value", "en", "zh", "n")


def _brand_counts(f: Filters, base: QuerySet[Product]) -> QuerySet[Any]:
    return (
        product_queryset(f, base=base, skip="brand")
        .annotate(
            kind=Value("brand"),
            value=F("brand__slug"),
            en=F("brand__name_en"),
            zh=F("brand__name_zh"),
        )
        .values("kind", "value", "en", "zh")
        .annotate(n=Count("id"))
        .values_list(*_COLUMNS)
        .order_by()
    )


def _sku_counts(f: Filters, field: str, base: QuerySet[Product]) -> QuerySet[Any]:
    """Products per size (or colour) over their active SKUs; ``field`` is "size"/"colour"."""
    products = product_queryset(f, base=base, skip=field).values("id")
    return (
        Sku.objects.filter(is_active=True, product_id__in=products)
        .exclude(**{field: ""})
        .annotate(kind=Value(field), value=F(field), en=Value(""), zh=Value(""))
        .values("kind", "value", "en", "zh")
        .annotate(n=Count("product_id", distinct=True))
        .values_list(*_COLUMNS)
        .order_by()
    )


def _band_counts(f: Filters, base: QuerySet[Product]) -> QuerySet[Any]:
    band = Case(
        *(When(band_q(b.code), then=Value(b.code)) for b in PRICE_BANDS),
        default=Value(""),
        output_field=CharField(),
    )
    return (
        product_queryset(f, base=base, skip="price")
        .filter(display_price__isnull=False)
        .annotate(kind=Value("price"), value=band, en=Value(""), zh=Value(""))
        .values("kind", "value", "en", "zh")
        .annotate(n=Count("id"))
        .values_list(*_COLUMNS)
        .order_by()
    )


def count_facets(f: Filters) -> dict[str, list[tuple[str, str, str, int]]]:
    """{facet code: [(value, label_en, label_zh, products)]}, from ONE query: the four
    GROUP BY counts glued with UNION ALL, so a cold listing costs one round trip for them."""
    base = base_queryset(f)
    combined = _brand_counts(f, base).union(
        _sku_counts(f, "size", base),
        _sku_counts(f, "colour", base),
        _band_counts(f, base),
        all=True,
    )
    out: dict[str, list[tuple[str, str, str, int]]] = {
        "brand": [],
        "size": [],
        "colour": [],
        "price": [],
    }
    for kind, value, en, zh, n in combined:
        if value:
            out[kind].append((value, en, zh, n))
    return out


_ONE_SIZE = {"ONE": ("One size", "均码")}


def compute_facets(f: Filters, query: ListingQuery) -> tuple[tuple[Facet, ...], int]:
    """The four facets with counts and selection flags, and the total; one query."""
    counts = count_facets(f)
    brand_rows = counts["brand"]
    # Every product has exactly one brand, so the brand counts also give the total.
    total = sum(n for slug, _en, _zh, n in brand_rows if not f.brands or slug in f.brands)
    brand_rows.sort(key=lambda r: (-r[3], r[1].lower(), r[0]))
    present = {slug for slug, *_ in brand_rows}
    brands = [
        FacetValue(slug, en, zh, n, slug in query.brands) for slug, en, zh, n in brand_rows
    ] + [FacetValue(slug, slug, slug, 0, True) for slug in sorted(query.brands - present)]

    size_counts = {v: n for v, _en, _zh, n in counts["size"]}
    sizes = [
        FacetValue(s, *_ONE_SIZE.get(s, (s, s)), size_counts.get(s, 0), s in query.sizes)
        for s in sort_sizes({*size_counts, *query.sizes})
    ]
    colour_counts = {v: n for v, _en, _zh, n in counts["colour"]}
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
    band_counts = {v: n for v, _en, _zh, n in counts["price"]}
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


# --- the shared store: one computation per state and version for all workers ---------------

logger = logging.getLogger(__name__)
# Rows of older versions are garbage, and so are rows older than a day (every filter
# combination stores one, and the catalog may not change for days). About one store in
# _CLEAN_ONE_IN (chosen by key, so deterministic) sweeps them, and at least one an hour per
# process: a cold page should not pay a DELETE on top of its counts.
_MAX_AGE = timedelta(days=1)
_CLEAN_ONE_IN = 32
_CLEAN_EVERY_SECONDS = 3600.0
_last_cleaned: dict[str, float] = {"at": time.monotonic()}  # this process's last sweep


def load_stored(key: str) -> tuple[tuple[Facet, ...], int] | None:
    """Facets and total stored by any worker for ``key`` (which includes the version)."""
    payload = ListingFacetCache.objects.filter(key=key).values_list("payload", flat=True).first()
    if not isinstance(payload, dict):
        return None
    try:
        facets = tuple(
            Facet(code, en, zh, tuple(FacetValue(*value) for value in values))
            for code, en, zh, values in payload["f"]
        )
        return facets, int(payload["t"])
    except (KeyError, TypeError, ValueError):  # written by another release: recompute
        return None


def store(key: str, version: int, result: tuple[tuple[Facet, ...], int]) -> None:
    facets, total = result
    payload = {
        "t": total,
        "f": [
            [f.code, f.label_en, f.label_zh,
             [[v.value, v.label_en, v.label_zh, v.count, v.selected] for v in f.values]]
            for f in facets
        ],
    }  # fmt: skip
    try:
        ListingFacetCache.objects.bulk_create(
            [ListingFacetCache(key=key, version=version, payload=payload)], ignore_conflicts=True
        )
    except DatabaseError:  # e.g. SQLite busy past its timeout: the page still answers
        if connection.in_atomic_block:
            raise
        logger.warning("listing facet cache write failed", exc_info=True)
        return
    moment = time.monotonic()
    sweep_turn = int(hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()[:4], 16)
    if sweep_turn % _CLEAN_ONE_IN == 0 or moment - _last_cleaned["at"] > _CLEAN_EVERY_SECONDS:
        _last_cleaned["at"] = moment
        ListingFacetCache.objects.filter(
            Q(version__lt=version) | Q(created_at__lt=clock.now() - _MAX_AGE)
        ).delete()
