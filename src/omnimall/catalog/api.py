"""Store API for the catalog: the category tree, product listings and product details.

Public (no API key): the same reads the storefront pages show. Handlers only translate
HTTP to selector calls; the selectors are lenient with junk input, so none of it is a 500.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from omnimall.core.api.errors import ErrorOut
from omnimall.core.errors import NotFoundError

from . import selectors
from .schemas import (
    CategoryTreeOut,
    ProductDetailOut,
    ProductListParams,
    ProductPageOut,
    category_out,
    product_detail_out,
    product_page_out,
)

router = Router(tags=["catalog"])


@router.get("/categories", response=CategoryTreeOut, summary="Category tree")
def list_categories(request: HttpRequest) -> dict[str, Any]:
    """Active categories, roots first, each with its children nested."""
    return {
        "categories": [category_out(node) for node in selectors.get_category_tree(request=request)]
    }


@router.get("/products", response={200: ProductPageOut, 404: ErrorOut}, summary="List products")
def list_products(request: HttpRequest, params: Query[ProductListParams]) -> dict[str, Any]:
    """One page of products with facet counts (brand, size, colour, price band).

    Facet parameters repeat (``brand=a&brand=b``); values within a facet are alternatives,
    facets combine. ``sort`` is ``popular`` (default), ``price_asc``, ``price_desc`` or
    ``newest``. Follow ``next_cursor``/``prev_cursor`` through ``cursor`` to page.
    """
    category_id = None
    if params.category:
        found = selectors.get_category(params.category.strip("/"), request=request)
        if found is None:
            raise NotFoundError("Unknown category.", category=params.category[:255])
        category_id = found[0].id
    raw = {
        "brand": params.brand, "size": params.size, "colour": params.colour,
        "price": params.price, "sort": [params.sort], "cursor": [params.cursor],
        "page_size": [params.page_size],
    }  # fmt: skip
    query = selectors.parse_listing_query(raw, category_id=category_id)
    return product_page_out(selectors.list_products(query, request=request))


@router.get("/products/{slug}", response={200: ProductDetailOut, 404: ErrorOut}, summary="Product")
def get_product(request: HttpRequest, slug: str) -> dict[str, Any]:
    """A product with its images, breadcrumbs and active SKUs with storefront prices."""
    detail = selectors.get_product_detail(slug, request=request)
    if detail is None:
        raise NotFoundError("Unknown product.", slug=slug[:120])
    return product_detail_out(detail)
