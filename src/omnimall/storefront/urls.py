from django.contrib.sitemaps import views as sitemap_views
from django.urls import path

from . import views
from .sitemaps import SITEMAPS

app_name = "storefront"
urlpatterns = [
    path("", views.home, name="home"),
    path("c/<path:full_slug>/", views.category, name="category"),
    path("p/<str:slug>/", views.product, name="product"),
    path("p/<str:slug>/availability/", views.product_availability, name="product_availability"),
    path("search/", views.search, name="search"),
    path("stores/", views.stores, name="stores"),
    path("help/<slug:topic>/", views.help_page, name="help"),
    path("search/suggest/", views.search_suggestions, name="search_suggest"),
    path("robots.txt", views.robots_txt, name="robots"),
    path(
        "sitemap.xml",
        views.CATALOG_PAGES(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "storefront:sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        views.CATALOG_PAGES(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap_section",
    ),
]
