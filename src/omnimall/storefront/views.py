"""Shopper-facing pages. Each view parses the request, calls selectors, renders.

Selectors are lenient with user input (unknown facets dropped, bad sort or cursor → the
default), so no query string can turn into a 500 here.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django.views.i18n import set_language as django_set_language

from omnimall.catalog import selectors
from omnimall.catalog.services import CATALOG_CACHE_NAMESPACE
from omnimall.checkout import selectors as checkout_selectors
from omnimall.core.cache_versions import current_version
from omnimall.inventory.selectors import allocation as stock_selectors
from omnimall.members.selectors import members as member_selectors
from omnimall.search import selectors as search_selectors
from omnimall.search import services as search_services

from . import availability, presenters
from .page_cache import cached_page

# What the cached pages show; a bump of any of these versions retires their cached copies.
CATALOG_PAGES = cached_page(namespaces=(CATALOG_CACHE_NAMESPACE,))


def _fragment_key(request: HttpRequest, *parts: object) -> str:
    # The version was read (and memoised on the request) by the selectors: no extra query.
    version = current_version(CATALOG_CACHE_NAMESPACE, request)
    return presenters.fragment_key(version=version, parts=parts)


@require_GET
@CATALOG_PAGES
def home(request: HttpRequest) -> HttpResponse:
    tree = selectors.get_category_tree(request=request)
    context = {
        "featured_categories": presenters.featured_categories(tree),
        "products": selectors.list_featured_products(limit=12, request=request),
        "canonical": request.build_absolute_uri(reverse("storefront:home")),
        "fragment_key": _fragment_key(request, "home"),
    }
    return render(request, "storefront/home.html", context)


@require_GET
@CATALOG_PAGES
def category(request: HttpRequest, full_slug: str) -> HttpResponse:
    found = selectors.get_category(presenters.clean_text(full_slug), request=request)
    if found is None:
        raise Http404("unknown category")
    node, ancestors = found
    params = presenters.listing_params(request)
    query = selectors.parse_listing_query(params, category_id=node.id)
    page = selectors.list_products(query, request=request)
    # A leaf has no sub-categories: its siblings make a more useful category bar.
    siblings = ancestors[-1].children if ancestors and not node.children else ()
    context = {
        "category": node,
        "ancestors": ancestors,
        "category_bar": node.children or siblings,
        "page": page,
        "canonical": presenters.canonical_url(request),
        "fragment_key": _fragment_key(request, node.id, sorted(params.items())),
        **presenters.listing_context(params),
    }
    return render(request, "storefront/category.html", context)


@require_GET
@CATALOG_PAGES
def product(request: HttpRequest, slug: str) -> HttpResponse:
    detail = selectors.get_product_detail(presenters.clean_text(slug), request=request)
    if detail is None:
        raise Http404("unknown product")
    canonical = request.build_absolute_uri(reverse("storefront:product", args=[detail.slug]))
    picker = presenters.variant_picker(
        skus=detail.skus,
        sizes=detail.sizes,
        colours=detail.colours,
        sku_code=request.GET.get("sku", "")[:64],
    )
    context = {
        "product": detail,
        "picker": picker,
        "skus_data": presenters.skus_for_script(detail.skus),
        "related": selectors.list_related_products(product_id=detail.id, limit=8, request=request),
        "canonical": canonical,
        "json_ld": presenters.product_json_ld(request=request, detail=detail, canonical=canonical),
        "fragment_key": _fragment_key(
            request, detail.id, picker.selected.code if picker.selected else ""
        ),
    }
    return render(request, "storefront/product.html", context)


@require_GET
@never_cache  # stock moves with every sale: never from a cache, and cheap (see below)
@vary_on_headers("HX-Request")
def product_availability(request: HttpRequest, slug: str) -> HttpResponse:
    """Stock of the selected SKU for delivery and in the stores near a city.

    Kept out of the cached product page, which loads it with HTMX on load and on a change
    of variant or city; without JavaScript the page links here and this is a full page.
    Cost: the product from the catalog cache, then three small indexed queries.
    """
    detail = selectors.get_product_detail(presenters.clean_text(slug), request=request)
    if detail is None:
        raise Http404("unknown product")
    picker = presenters.variant_picker(
        skus=detail.skus,
        sizes=detail.sizes,
        colours=detail.colours,
        sku_code=presenters.clean_text(request.GET.get("sku", "")[:64]),
    )
    sku = picker.selected
    city_query = presenters.clean_text(request.GET.get("city", "")[:60]).strip()
    found = stock_selectors.product_availability(
        sku_ids=[sku.id] if sku else [],
        city=city_query,
        channel_code=settings.STOREFRONT_CHANNEL,
    )
    stock = found.skus.get(sku.id) if sku else None
    context = {
        "product": detail,
        "sku": sku,
        "stock": stock,
        "city": found.city,
        **availability.availability_context(stock=stock, city=found.city, city_query=city_query),
    }
    fragment = request.headers.get("HX-Request") == "true"
    template = "storefront/_availability.html" if fragment else "storefront/availability.html"
    return render(request, template, context)


@require_GET
def stores(request: HttpRequest) -> HttpResponse:
    """The store finder: every store with its address and hours, nearest to the chosen
    city first; without a city, by city. One query (the locations)."""
    city_query = presenters.clean_text(request.GET.get("city", "")[:60]).strip()
    city, found = stock_selectors.stores_directory(city_query or None)
    store_cities, other_cities = availability.city_options(
        cities=(s.store.city for s in found), city=city
    )
    context = {
        "stores": found,
        "city": city,
        "city_query": city_query,
        "city_unknown": bool(city_query) and city is None,
        "store_cities": store_cities,
        "other_cities": other_cities,
        "groups": [] if city else availability.stores_by_city(found, store_cities),
    }
    return render(request, "storefront/stores.html", context)


HELP_TOPICS = {
    "delivery": gettext_lazy("Delivery and pick-up"),
    "returns": gettext_lazy("Returns"),
    "membership": gettext_lazy("Membership and points"),
}


@require_GET
def help_page(request: HttpRequest, topic: str) -> HttpResponse:
    """Delivery and pick-up, returns, membership: the rules as this shop is set up (fees,
    days and tiers come from the settings and the tier table, not from copy that drifts)."""
    if topic not in HELP_TOPICS:
        raise Http404("unknown help topic")
    context = {
        "topic": topic,
        "heading": HELP_TOPICS[topic],
        "other_topics": [(slug, label) for slug, label in HELP_TOPICS.items() if slug != topic],
        # What checkout charges: the default rate and the shipping zones.
        "default_rate": checkout_selectors.default_rate(),
        "shipping_zones": (
            presenters.shipping_zone_rows(checkout_selectors.list_zones())
            if topic == "delivery"
            else []
        ),
        "hold_minutes": settings.CHECKOUT_HOLD_MINUTES,
        "pickup_days": settings.PICKUP_UNCOLLECTED_DAYS,
        "pickup_extension_days": settings.PICKUP_EXTENSION_DAYS,
        "return_days": settings.RETURN_WINDOW_DAYS,
        "cancel_paid": settings.SHOPPER_CANCEL_PAID,
        "confirm_days": settings.DELIVERY_CONFIRM_DAYS,
        "points_per_cny": settings.POINTS_PER_CNY_VALUE,
        "points_max_percent": int(Decimal(settings.POINTS_MAX_SHARE) * 100),
        "points_expiry_months": settings.POINTS_EXPIRY_MONTHS,
        "tiers": member_selectors.list_tiers() if topic == "membership" else [],
    }
    return render(request, f"storefront/help/{topic}.html", context)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = presenters.search_text(request)
    params = presenters.listing_params(request)
    result = search_selectors.search_listing(query, params, request=request) if query else None
    if result is not None and result.text_found_nothing:
        search_services.record_zero_result_query(query=result.query)
    context = {
        "query": query,
        "result": result,
        "page": result.page if result else None,
        "canonical": presenters.canonical_url(request, extra=(presenters.SEARCH_PARAM,)),
        **presenters.listing_context(params, search=True),
    }
    return render(request, "storefront/search.html", context)


@require_GET
def search_suggestions(request: HttpRequest) -> HttpResponse:
    """The live-suggestion fragment under the search box (HTMX)."""
    query = presenters.search_text(request)
    suggestions = search_selectors.suggest(query, limit=8, request=request) if query else ()
    return render(
        request, "storefront/_suggestions.html", {"query": query, "suggestions": suggestions}
    )


@csrf_exempt
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch without a CSRF token in every page.

    The token would make each page unique to its visitor and so uncacheable; a forged
    switch could only change a visitor's display language, which harms nothing.
    """
    return django_set_language(request)


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    sitemap = request.build_absolute_uri(reverse("storefront:sitemap"))
    lines = [
        "User-agent: *",
        "Allow: /",
        "Disallow: /admin/",
        "Disallow: /api/",
        f"Sitemap: {sitemap}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
