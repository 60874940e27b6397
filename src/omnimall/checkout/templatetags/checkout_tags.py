"""Template helpers of the cart and checkout pages (formatting only)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.forms import BaseForm
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from omnimall.checkout.domain import MAX_LINE_QUANTITY, ShippingRate
from omnimall.checkout.provinces import PROVINCES
from omnimall.checkout.shipping import delivery_time as _delivery_time

register = template.Library()


@register.filter
def delivery_time(rate: ShippingRate) -> str:
    """ "Usually delivered in 2–4 days" for a shipping rate; empty when it says none."""
    return _delivery_time(rate) if isinstance(rate, ShippingRate) else ""


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


@dataclass(frozen=True)
class Problem:
    message: str
    label: str = ""
    anchor: str = ""  # the field's id; empty for a problem of the whole form


@register.inclusion_tag("checkout/_error_summary.html")
def error_summary(*forms: BaseForm) -> dict[str, list[Problem]]:
    """The forms' problems for the summary at the top of a refused form: each form's own
    first, then each field's in the page's order, linked to the field (its ``id``: the
    input, or the group of radio buttons, which the template gives that id)."""
    problems: list[Problem] = []
    for form in forms:
        problems += [Problem(message=str(error)) for error in form.non_field_errors()]
        problems += [
            Problem(
                message=" ".join(str(error) for error in field.errors),
                label=str(field.label),
                anchor=field.auto_id,
            )
            for field in form
            if field.errors
        ]
    return {"problems": problems}
