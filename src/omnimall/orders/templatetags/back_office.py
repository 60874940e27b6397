"""``{% back_office_dashboard %}``: the work waiting and the sales chart on the admin index."""

from __future__ import annotations

from typing import Any

from django import template

from omnimall.orders.admin.dashboard import dashboard_context

register = template.Library()


@register.simple_tag(takes_context=True)
def back_office_dashboard(context: template.Context) -> dict[str, Any]:
    return dashboard_context(context["request"])
