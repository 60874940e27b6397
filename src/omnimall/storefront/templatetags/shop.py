"""Template helpers for the storefront: prices, colours, bilingual fields, listing URLs, the
cached navigation bar and JSON-LD. Formatting only; the numbers come from the selectors."""

from __future__ import annotations

import json
from decimal import Decimal

from django import template
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.template.context import Context
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from omnimall.catalog import selectors
from omnimall.catalog.domain import COLOURS
from omnimall.catalog.services import CATALOG_CACHE_NAMESPACE
from omnimall.core.cache_versions import current_version
from omnimall.storefront import presenters

register = template.Library()

NAV_CACHE_SECONDS = 6 * 3600


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


@register.filter
def money(value: Decimal | None) -> str:
    return presenters.format_money(value)


@register.filter
def is_discounted(item: object) -> bool:
    price, list_price = getattr(item, "price", None), getattr(item, "list_price", None)
    return price is not None and list_price is not None and list_price > price


@register.filter
def colour_name(code: str) -> str:
    colour = COLOURS.get(code)
    if colour is None:
        return code
    return colour.name_zh if _zh() else colour.name_en


@register.filter
def colour_hex(code: str) -> str:
    return presenters.colour_hex(code)


@register.filter
def bilingual(obj: object, field: str) -> str:
    return presenters.in_language(obj, field)


@register.simple_tag(takes_context=True)
def toggle_url(context: Context, key: str, value: str) -> str:
    """The listing URL with one facet value switched on or off (back to page 1)."""
    return presenters.url_with(context["params"], toggle=(key, value))


@register.simple_tag(takes_context=True)
def replace_url(context: Context, key: str, value: str | None = None) -> str:
    return presenters.url_with(context["params"], replace={key: value})


@register.simple_tag(takes_context=True)
def cursor_url(context: Context, cursor: str) -> str:
    return presenters.url_with(
        context["params"], replace={presenters.CURSOR_PARAM: cursor}, keep_cursor=True
    )


@register.simple_tag(takes_context=True)
def navigation(context: Context) -> SafeString:
    """The category navigation bar, rendered once per language and catalog version.

    The version is read once per request (memoised on it); a catalog change bumps it, so
    a renamed or new category shows at once without any explicit purge.
    """
    request = context.get("request")
    version = current_version(CATALOG_CACHE_NAMESPACE, request)
    key = f"storefront:nav:{get_language()}:{version}"
    html = cache.get(key)
    if html is None:
        html = render_to_string(
            "storefront/_nav.html", {"tree": selectors.get_category_tree(request=request)}
        )
        cache.set(key, html, NAV_CACHE_SECONDS)
    return mark_safe(html)


@register.filter
def json_ld(data: object) -> SafeString:
    """A ``<script type="application/ld+json">`` with <, > and & escaped like json_script."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    text = text.translate({ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"})
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))
