from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("payments/sandbox/pay/<str:trade_no>/", views.sandbox_pay, name="sandbox_pay"),
]
