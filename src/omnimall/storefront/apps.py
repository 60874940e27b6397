from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "omnimall.storefront"
    label = "storefront"
    verbose_name = "Storefront"
