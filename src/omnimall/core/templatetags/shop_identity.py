"""``{% shop_name %}`` in every template (a builtin: see ``TEMPLATES`` in settings), pages
and emails alike; ``{% shop_name as shop %}`` to use it inside a translated sentence."""

from django import template

from omnimall.core.shop import shop_name as _shop_name

register = template.Library()


@register.simple_tag
def shop_name() -> str:
    return _shop_name()
