from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "omnimall.search"
    label = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from omnimall.catalog.events import CategoriesChanged, ProductsChanged
        from omnimall.core.events import subscribe

        from . import handlers

        subscribe(ProductsChanged, handlers.on_products_changed)
        subscribe(CategoriesChanged, handlers.on_categories_changed)
