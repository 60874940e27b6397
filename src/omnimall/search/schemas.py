"""Search API schemas: the catalog's listing shape plus what a search adds."""

from __future__ import annotations

from ninja import Schema

from omnimall.catalog.schemas import ListingParams, ProductPageOut


class SearchOut(ProductPageOut):
    """``GET /api/v1/products``'s page (items, facets, total, page_number, page_count,
    next_cursor, prev_cursor, sort), plus the normalised query, the corrected query when a
    typo was fixed, and alternative queries when nothing was found."""

    query: str
    corrected_query: str | None
    suggestions: list[str]


class SuggestionOut(Schema):
    text: str
    kind: str  # "product", "category" or "brand"
    url: str


class SuggestionsOut(Schema):
    suggestions: list[SuggestionOut]


class SearchParams(ListingParams):
    """``q`` past 100 characters is ignored; the rest as for ``GET /api/v1/products``."""

    q: str = ""
