"""Template helpers of the cart pages (formatting only)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from omnimall.checkout.domain import MAX_LINE_QUANTITY
from omnimall.checkout.provinces import PROVINCES

register = template.Library()


@register.simple_tag
def quantity_options(selected: object = 1, maximum: int = MAX_LINE_QUANTITY) -> SafeString:
    """``<option>`` 1..maximum, ``selected`` marked (a line's quantity)."""
    chosen = selected if isinstance(selected, int) else 1
    top = max(1, min(int(maximum), MAX_LINE_QUANTITY))
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((n, " selected" if n == chosen else "", n) for n in range(1, top + 1)),
    )


@register.simple_tag
def province_datalist() -> SafeString:
    """The ``<datalist id="province-list">`` an address's province field offers: the full
    Chinese names (as they go on a parcel), labelled in English on English pages."""
    english = not (get_language() or "zh-hans").startswith("zh")
    options = format_html_join(
        "",
        '<option value="{}"{}></option>',
        ((p.name_zh, format_html(' label="{}"', p.name_en) if english else "") for p in PROVINCES),
    )
    return format_html('<datalist id="province-list">{}</datalist>', options)
