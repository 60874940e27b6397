from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "omnimall.catalog"
    label = "catalog"
    verbose_name = "Catalog"
