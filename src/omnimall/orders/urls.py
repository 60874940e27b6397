from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path(
        "payments/notify/<str:gateway>/",
        views.payment_notification,
        name="payment_notification",
    ),
]
