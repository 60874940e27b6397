from django.urls import path

from . import views

app_name = "checkout"
urlpatterns = [
    path("cart/", views.cart, name="cart"),
    path("cart/summary/", views.cart_summary, name="cart_summary"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/lines/<int:line_id>/", views.cart_line, name="cart_line"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/stores/", views.checkout_stores, name="checkout_stores"),
]
