from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "omnimall.checkout"
    label = "checkout"
    verbose_name = "Checkout"
