from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "omnimall.payments"
    label = "payments"
    verbose_name = "Payments"
