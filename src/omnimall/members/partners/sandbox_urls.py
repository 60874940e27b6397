"""The sandbox points partner: ``/sandbox/partner/`` (docs/partners.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import sandbox_views

app_name = "sandbox_partner"

urlpatterns: list[URLPattern] = [
    path("", sandbox_views.console, name="console"),
    path("requests", sandbox_views.receive, name="requests"),
]
