"""The member centre, mounted at ``/account/member/``."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "members"
urlpatterns = [
    path("", views.member_centre, name="centre"),
    path("link/", views.link_start, name="link_start"),
    path("link/confirm/", views.link_confirm, name="link_confirm"),
    path("link/restart/", views.link_restart, name="link_restart"),
    path("preferences/", views.preferences, name="preferences"),
    path("card/barcode.svg", views.card_barcode, name="card_barcode"),
    path("card/qr.svg", views.card_qr, name="card_qr"),
]
