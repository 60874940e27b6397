"""One page of a listing: keyset rows (no OFFSET scan), or search results in rank order.

Called by ``catalog.selectors.list_products`` on a cache miss.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import listing
from .models import Product, ProductImage
from .readmodels import Facet, ListingQuery, ProductCard, ProductPage


def build_page(
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
        items=build_cards(rows),
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
    forward = cursor.forward if cursor is not None else True
    rows = listing.keyset_rows(
        listing.product_queryset(filters),
        sort,
        after=(cursor.key, cursor.pk) if cursor is not None else None,
        forward=forward,
        limit=size + 1,
    )
    more = len(rows) > size
    rows = rows[:size]
    if cursor is None:
        return rows, 1, False, more
    if forward:
        if not rows:  # the listing shrank past the cursor since: start over at page 1
            return _keyset_rows(filters, sort, None, size)
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
        if after:  # else the results shrank past the cursor: show page 1
            page_ids, page_no, has_prev = after[:size], cursor.page, True
            has_next = len(after) > size
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


def build_cards(rows: list[dict[str, Any]]) -> tuple[ProductCard, ...]:
    colours, images = listing.fetch_assets([row["id"] for row in rows])
    storage = ProductImage._meta.get_field("image").storage
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
