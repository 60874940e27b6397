"""Shared bits of the stock back-office pages: a form page, service errors as text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.template.response import TemplateResponse

from omnimall.core.errors import DomainError

if TYPE_CHECKING:
    from django import forms
    from django.contrib.admin import ModelAdmin
    from django.http import HttpRequest

FORM_TEMPLATE = "admin/inventory/form_page.html"


def error_text(exc: DomainError) -> str:
    """The refusal as one sentence, with its plain figures (e.g. on hand and reserved)."""
    details: list[str] = []
    for key, value in exc.details.items():
        if isinstance(value, str | int) and not isinstance(value, bool):
            details.append(f"{key.replace('_', ' ')}: {value}")
        elif isinstance(value, list | tuple):  # e.g. shortages: one dict per line
            details.extend(
                ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in item.items())
                for item in value
                if isinstance(item, dict)
            )
    return f"{exc.message} ({'; '.join(details)})" if details else str(exc.message)


def form_page(
    request: HttpRequest,
    *,
    model_admin: ModelAdmin[Any],
    title: str,
    form: forms.BaseForm | None,
    submit_label: str,
    intro: str = "",
    objects: Iterable[object] = (),
    hidden: Sequence[tuple[str, str]] = (),
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> TemplateResponse:
    """One admin page holding a form (also the intermediate page of an admin action)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "form": form,
        "intro": intro,
        "objects": list(objects),
        "hidden": hidden,
        "submit_label": submit_label,
        **(extra or {}),
    }
    return TemplateResponse(request, FORM_TEMPLATE, context, status=status)
