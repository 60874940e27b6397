"""Store referral links (``/s/<code>/``) and their QR codes; included at "" by the root."""

from django.urls import path

from . import views

app_name = "channels"
urlpatterns = [
    path("s/<str:code>/", views.referral, name="referral"),
    path("s/<str:code>/qr.svg", views.referral_qr, name="referral_qr"),
]
