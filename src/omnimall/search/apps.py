from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "omnimall.search"
    label = "search"
    verbose_name = "Search"
