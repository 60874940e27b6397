"""Store API: ``GET /api/v1/search`` and ``GET /api/v1/search/suggest``."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from . import selectors, services
from .schemas import SearchOut, SearchParams, SuggestionsOut

router = Router(tags=["search"])

_LISTING_PARAMS = ("brand", "size", "colour", "price", "sort", "cursor", "page_size")


def _json(body: dict[str, Any]) -> HttpResponse:
    # The body is built here from typed dataclasses, in the shape the schema documents;
    # returning it directly skips re-validating ~25 items per request (a third of the time
    # of a cached search). Decimals become strings, as pydantic would write them.
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, default=str, separators=(",", ":")),
        content_type="application/json",
    )


@router.get("", response=SearchOut, summary="Search products")
def search_products(request: HttpRequest, params: Query[SearchParams]) -> HttpResponse:
    """Products matching ``q`` (Chinese or English; typos corrected), with the same
    facets, sorting and cursor pages as ``GET /api/v1/products``. Text past 100 characters
    is ignored."""
    listing_params = {name: request.GET.getlist(name) for name in _LISTING_PARAMS}
    result = selectors.search_listing(params.q, listing_params, request=request)
    page = result.page
    if result.query and page.total == 0 and not params.cursor:
        services.record_zero_result_query(query=result.query)
    return _json(
        {
            "query": result.query,
            "corrected_query": result.corrected_query,
            "suggestions": list(result.suggestions),
            "items": [
                {
                    "id": card.id,
                    "slug": card.slug,
                    "name": card.name,
                    "name_en": card.name_en,
                    "name_zh": card.name_zh,
                    "brand_name": card.brand_name,
                    "price": card.price,
                    "list_price": card.list_price,
                    "image_url": card.image_url,
                    "colours": list(card.colours),
                    "url": f"/p/{card.slug}/",
                }
                for card in page.items
            ],
            "facets": [
                {
                    "code": facet.code,
                    "label": facet.label,
                    "values": [
                        {
                            "value": v.value,
                            "label": v.label,
                            "count": v.count,
                            "selected": v.selected,
                        }
                        for v in facet.values
                    ],
                }
                for facet in page.facets
            ],
            "total": page.total,
            "page_number": page.page_number,
            "page_count": page.page_count,
            "next_cursor": page.next_cursor,
            "prev_cursor": page.prev_cursor,
            "sort": page.sort,
        }
    )


@router.get("/suggest", response=SuggestionsOut, summary="Search-box suggestions")
def search_suggestions(request: HttpRequest, q: str = "") -> HttpResponse:
    """Categories, brands and products whose names start with what was typed."""
    found = selectors.suggest(q, limit=8, request=request)
    return _json({"suggestions": [{"text": s.text, "kind": s.kind, "url": s.url} for s in found]})
