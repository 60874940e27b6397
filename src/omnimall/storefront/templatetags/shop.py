"""Template helpers for the storefront: prices, colours, bilingual fields, listing URLs, the
cached navigation bar and JSON-LD. Formatting only; the numbers come from the selectors."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import quote

from django import template
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.template.context import Context
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from omnimall.catalog import selectors
from omnimall.catalog.domain import colour_name as domain_colour_name
from omnimall.catalog.selectors import ProductCard
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
    return domain_colour_name(code, zh=_zh())


@register.filter
def colour_hex(code: str) -> str:
    return presenters.colour_hex(code)


@register.filter
def bilingual(obj: object, field: str) -> str:
    return presenters.in_language(obj, field)


@register.simple_tag(takes_context=True)
def facet_values(context: Context, facet: object) -> SafeString:
    """One facet's values as filter links (each toggles its value in the URL), built in
    Python for the same reason as product_cards: a sidebar holds dozens of them."""
    params = context["params"]
    zh = _zh()
    code = str(getattr(facet, "code", ""))
    out = []
    for v in getattr(facet, "values", ()):
        label = (v.label_zh or v.label_en) if zh else (v.label_en or v.label_zh)
        href = presenters.url_with(params, toggle=(code, v.value))
        swatch = (
            f'<span class="swatch" style="--swatch: {presenters.colour_hex(v.value)}"></span>'
            if code == "colour"
            else ""
        )
        selected = " is-selected" if v.selected else ""
        current = ' aria-current="true"' if v.selected else ""
        out.append(
            f'<li><a class="facet-value{selected}" href="{escape(href)}"{current} '
            f'data-facet="{escape(code)}" data-value="{escape(v.value)}">'
            f'<span class="check" aria-hidden="true"></span>{swatch}'
            f'<span class="facet-label">{escape(label)}</span> '
            f'<span class="count">{int(v.count)}</span></a></li>'
        )
    return mark_safe("\n".join(out))  # every value above is escaped


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


_SLUG_PLACEHOLDER = "__slug__"


@register.simple_tag
def product_cards(items: tuple[ProductCard, ...]) -> SafeString:
    """The product grid's cards, built in Python: a listing shows dozens of them and the
    template engine spends ~0.3 ms on each, which the benchmark's category page can't afford.
    Everything interpolated is escaped here."""
    zh = _zh()
    original_price, colour_label = escape(_("Original price:")), escape(_("Colour"))
    url_pattern = reverse("storefront:product", args=[_SLUG_PLACEHOLDER])
    out = []
    for item in items:
        name = (item.name_zh or item.name_en) if zh else (item.name_en or item.name_zh)
        brand = (
            (item.brand_name_zh or item.brand_name_en)
            if zh
            else (item.brand_name_en or item.brand_name_zh)
        )
        if item.image_url:
            # alt="": the card's link already says the name, next to the photo.
            image = (
                f'<img src="{escape(item.image_url)}" alt="" loading="lazy" '
                'width="600" height="800">'
            )
        else:
            image = f'<span class="card-placeholder" aria-hidden="true">{escape(brand[:1])}</span>'
        price = ""
        if item.price is not None:
            sale = item.list_price is not None and item.list_price > item.price
            price = (
                f'<span class="price-now{" price-sale" if sale else ""}">'
                f"{escape(presenters.format_money(item.price))}</span>"
            )
            if sale:
                # A struck-through price is only seen; a screen reader is told what it is.
                price += (
                    f' <span class="visually-hidden">{original_price}</span>'
                    f' <s class="price-was">{escape(presenters.format_money(item.list_price))}</s>'
                )
        colours = [(code, escape(domain_colour_name(code, zh=zh))) for code in item.colours[:6]]
        swatches = "".join(
            f'<span class="swatch swatch-sm" style="--swatch: {presenters.colour_hex(code)}" '
            f'title="{colour}"></span>'
            for code, colour in colours
        )
        if swatches:  # the dots' colours, in words for screen readers
            names = ", ".join(colour for _code, colour in colours)
            swatches = f'<span class="visually-hidden">{colour_label}: {names}</span>{swatches}'
        url = url_pattern.replace(_SLUG_PLACEHOLDER, escape(quote(item.slug, safe="")))
        out.append(
            f'<li class="card"><a href="{url}" class="card-link">'
            f'<div class="card-image">{image}</div>'
            f'<p class="card-brand">{escape(brand)}</p>'
            f'<p class="card-name">{escape(name)}</p>'
            f'<p class="price">{price}</p>'
            + (f'<p class="card-swatches">{swatches}</p>' if swatches else "")
            + "</a></li>"
        )
    return mark_safe("\n".join(out))  # every value above is escaped
