"""Template helpers of the cart pages (formatting only)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from omnimall.checkout.domain import MAX_LINE_QUANTITY

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
