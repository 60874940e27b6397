"""Query building for product listings: filters, keyset cursors, facet counts.

Private to ``catalog.selectors`` (which owns caching and the public dataclasses). Kept apart
so each module stays small: this one turns a normalised listing state into querysets.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.utils.crypto import constant_time_compare, salted_hmac

from .domain import PRICE_BANDS_BY_CODE
from .models import Product, ProductImage, Sku

_CURSOR_SALT = "omnimall.catalog.cursor"
MAX_CURSOR_LENGTH = 300


@dataclass(frozen=True, slots=True)
class Filters:
    """A listing's selection, normalised (sorted tuples) so it can key a cache entry."""

    category_ids: tuple[int, ...] | None  # None: every visible category
    hidden_category_ids: tuple[int, ...]  # inactive categories (and their subtrees)
    product_ids: tuple[int, ...] | None
    brands: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    price_bands: tuple[str, ...] = ()


# --- filters ------------------------------------------------------------------


def base_queryset(f: Filters) -> QuerySet[Product]:
    """Visible products of the category or search result, before any facet."""
    qs = Product.objects.filter(is_active=True, brand__is_active=True)
    if f.category_ids is not None:
        qs = qs.filter(category_id__in=f.category_ids)
    elif f.hidden_category_ids:
        qs = qs.exclude(category_id__in=f.hidden_category_ids)
    if f.product_ids is not None:
        qs = qs.filter(id__in=f.product_ids)
    return qs.order_by()


def product_queryset(
    f: Filters, *, skip: str | None = None, base: QuerySet[Product] | None = None
) -> QuerySet[Product]:
    """Products matching every selected facet except ``skip`` (for disjunctive counts).

    Pass ``base`` (from ``base_queryset``) when building several: preparing a long
    search-result id list is the costly part, and it is then done once.
    """
    qs = base_queryset(f) if base is None else base
    if skip != "brand" and f.brands:
        qs = qs.filter(brand__slug__in=f.brands)
    # A product matches a size (colour) when ANY of its active SKUs has it.
    if skip != "size" and f.sizes:
        qs = qs.filter(
            Exists(Sku.objects.filter(product_id=OuterRef("pk"), is_active=True, size__in=f.sizes))
        )
    if skip != "colour" and f.colours:
        qs = qs.filter(
            Exists(
                Sku.objects.filter(product_id=OuterRef("pk"), is_active=True, colour__in=f.colours)
            )
        )
    if skip != "price" and f.price_bands:
        qs = qs.filter(reduce(or_, (band_q(code) for code in f.price_bands)))
    return qs.order_by()


def band_q(code: str) -> Q:
    band = PRICE_BANDS_BY_CODE[code]
    q = Q(display_price__gte=band.low)
    if band.high is not None:
        q &= Q(display_price__lt=band.high)
    return q


# --- keyset pagination ---------------------------------------------------------------

# sort → (field, descending, nullable). Ties break on id in the same direction.
SORT_FIELDS: dict[str, tuple[str, bool, bool]] = {
    "popular": ("popularity", True, False),
    "price_asc": ("display_price", False, True),
    "price_desc": ("display_price", True, True),
    "newest": ("created_at", True, False),
}
CARD_FIELDS = (
    "id",
    "slug",
    "name_en",
    "name_zh",
    "brand__name_en",
    "brand__name_zh",
    "display_price",
    "display_list_price",
    "popularity",
    "created_at",
)


def ordering(sort: str, *, forward: bool = True) -> tuple[Any, ...]:
    """ORDER BY for a sort without NULLS modifiers, so the sort indexes serve it."""
    field, desc, _nullable = SORT_FIELDS[sort]
    down = desc if forward else not desc
    return (F(field).desc() if down else F(field).asc(), F("id").desc() if down else F("id").asc())


def keyset_rows(
    qs: QuerySet[Product], sort: str, *, after: tuple[Any, int] | None, forward: bool, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` card rows strictly beyond the row ``after`` = (sort value, id), or from
    the start, walking ``forward`` in ``sort`` order or backward (rows come out reversed).

    Every query is an index range scan from the cursor: no OFFSET, so page 500 costs what
    page 1 does. Unpriced products come last in both price orders; they are read as a
    separate segment rather than with ``NULLS LAST``, which no index could serve both ways.
    """
    field, desc, nullable = SORT_FIELDS[sort]
    down = desc if forward else not desc
    op, bound = ("lt", "lte") if down else ("gt", "gte")
    id_order = F("id").desc() if down else F("id").asc()

    def priced(cursor: tuple[Any, int] | None, n: int) -> list[dict[str, Any]]:
        q = qs.filter(**{f"{field}__isnull": False}) if nullable else qs
        if cursor is not None:
            value, pk = cursor
            # The redundant bound lets the database start the index scan at the cursor.
            q = q.filter(
                Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": pk}),
                **{f"{field}__{bound}": value},
            )
        order = F(field).desc() if down else F(field).asc()
        return list(q.order_by(order, id_order).values(*CARD_FIELDS)[:n])

    def unpriced(after_pk: int | None, n: int) -> list[dict[str, Any]]:
        q = qs.filter(**{f"{field}__isnull": True})
        if after_pk is not None:
            q = q.filter(**{f"id__{op}": after_pk})
        return list(q.order_by(id_order).values(*CARD_FIELDS)[:n])

    if not nullable:
        return priced(after, limit)
    in_unpriced = after is not None and after[0] is None
    if forward:
        rows = [] if in_unpriced else priced(after, limit)
        if len(rows) < limit:
            rows += unpriced(after[1] if in_unpriced and after else None, limit - len(rows))
        return rows
    if not in_unpriced:
        return priced(after, limit)
    rows = unpriced(after[1] if after else None, limit)
    if len(rows) < limit:
        rows += priced(None, limit - len(rows))
    return rows


def sort_value(sort: str, row: dict[str, Any]) -> Any:
    value = row[SORT_FIELDS[sort][0]]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _parse_key(sort: str, raw: Any) -> Any:
    if sort in ("popular", "relevance"):
        if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw < 2**62:
            raise ValueError(raw)
        return raw
    if sort == "newest":
        parsed = datetime.fromisoformat(raw) if isinstance(raw, str) and len(raw) < 40 else None
        if parsed is None or parsed.tzinfo is None:
            raise ValueError(raw)
        return parsed
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > 20:
        raise ValueError(raw)
    value = Decimal(raw)
    if not value.is_finite():
        raise ValueError(raw)
    return value


# --- cursors: signed, URL-safe, opaque ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cursor:
    sort: str
    forward: bool
    page: int  # the page number this cursor leads to
    key: Any  # the boundary row's sort value (a list position for relevance)
    pk: int  # the boundary row's id


def _mac(body: str) -> str:
    digest = salted_hmac(_CURSOR_SALT, body).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode()


def encode_cursor(*, sort: str, forward: bool, page: int, key: Any, pk: int) -> str:
    payload = json.dumps([sort, 1 if forward else 0, page, key, pk], separators=(",", ":"))
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{body}.{_mac(body)}"


def decode_cursor(token: str | None, *, sort: str) -> Cursor | None:
    """The cursor, or None when it is missing, malformed, tampered with or for another sort."""
    if not token or len(token) > MAX_CURSOR_LENGTH or token.count(".") != 1:
        return None
    body, mac = token.split(".")
    if not constant_time_compare(mac, _mac(body)):
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        c_sort, forward, page, key, pk = raw
        if c_sort != sort or forward not in (0, 1) or not isinstance(page, int):
            return None
        if not isinstance(pk, int) or not 1 <= page <= 10**7:
            return None
        return Cursor(sort=sort, forward=bool(forward), page=page, key=_parse_key(sort, key), pk=pk)
    except (ValueError, TypeError, InvalidOperation, binascii.Error, UnicodeDecodeError):
        return None


# --- page assets: colour swatches and the first image in one query ---------------------


def fetch_assets(product_ids: list[int]) -> tuple[dict[int, list[str]], dict[int, str]]:
    """(colour codes per product in SKU order, first image file name per product)."""
    if not product_ids:
        return {}, {}
    skus = (
        Sku.objects.filter(product_id__in=product_ids, is_active=True)
        .exclude(colour="")
        .annotate(kind=Value(0), text=Cast("colour", output_field=CharField()))
        .values_list("product_id", "kind", "position", "id", "text")
        .order_by()
    )
    images = (
        ProductImage.objects.filter(product_id__in=product_ids)
        .annotate(kind=Value(1), text=Cast("image", output_field=CharField()))
        .values_list("product_id", "kind", "position", "id", "text")
        .order_by()
    )
    colours: dict[int, list[str]] = {}
    first_image: dict[int, str] = {}
    for product_id, kind, _pos, _id, text in sorted(skus.union(images, all=True)):
        if kind == 0:
            seen = colours.setdefault(product_id, [])
            if text not in seen:
                seen.append(text)
        elif text:
            first_image.setdefault(product_id, text)
    return colours, first_image
