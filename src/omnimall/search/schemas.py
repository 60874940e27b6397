"""Output schemas of the search API.

They repeat the field names of the product listing API (``items``, ``facets``, ``total``,
``page_number``, ``page_count``, ``next_cursor``, ``prev_cursor``, ``sort``) so one client
model reads both. When ``omnimall.catalog.schemas`` defines the listing schemas, these
should be replaced by imports of those.
"""

from __future__ import annotations

from decimal import Decimal

from ninja import Schema


class ProductCardOut(Schema):
    id: int
    slug: str
    name: str
    name_en: str
    name_zh: str
    brand_name: str
    price: Decimal | None
    list_price: Decimal | None
    image_url: str
    colours: list[str]
    url: str


class FacetValueOut(Schema):
    value: str
    label: str
    count: int
    selected: bool


class FacetOut(Schema):
    code: str
    label: str
    values: list[FacetValueOut]


class SearchOut(Schema):
    query: str
    corrected_query: str | None
    suggestions: list[str]
    items: list[ProductCardOut]
    facets: list[FacetOut]
    total: int
    page_number: int
    page_count: int
    next_cursor: str | None
    prev_cursor: str | None
    sort: str


class SuggestionOut(Schema):
    text: str
    kind: str
    url: str


class SuggestionsOut(Schema):
    suggestions: list[SuggestionOut]


class SearchParams(Schema):
    """Query parameters; facet parameters may repeat (``brand=a&brand=b``)."""

    q: str = ""
    brand: list[str] = []
    size: list[str] = []
    colour: list[str] = []
    price: list[str] = []
    sort: str = ""
    cursor: str = ""
    page_size: str = ""
