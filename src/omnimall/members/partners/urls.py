"""The member centre's points exchange: ``/account/member/exchange/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "member_exchange"

urlpatterns: list[URLPattern] = [
    path("", views.exchange, name="exchange"),
    path("quote/", views.quote, name="quote"),
]
