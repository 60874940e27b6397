"""Hot pages use a bounded number of queries, whatever the page size or number of variants.

Measured with an empty cache (the worst case: every selector goes to the database).
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.catalog.factories import make_image, make_product

pytestmark = pytest.mark.django_db

MAX_QUERIES = 10


@pytest.fixture
def big_shop(shop):
    sizes = ("XS", "S", "M", "L", "XL")
    colours = ("black", "white", "navy", "red")
    variants = tuple(
        (s, c, f"{100 + i}.00") for i, (s, c) in enumerate((s, c) for s in sizes for c in colours)
    )
    for n in range(30):
        product = make_product(
            category=shop.tshirts, slug=f"many-{n}", name_en=f"Many Tee {n}", variants=variants
        )
        make_image(product, name=f"many-{n}.png")
    return shop


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/c/women/",
        "/c/women/?page_size=60",
        "/c/women/?brand=northwind&size=M&colour=black&price=100-300&sort=price_desc",
        "/c/women/tops/t-shirts/?sort=newest&page_size=5",
        "/p/many-3/",
        "/p/many-3/?sku=MANY-3-XL-RED",
        "/robots.txt",
    ],
)
def test_page_stays_within_query_budget_when_cache_is_cold(
    client, big_shop, django_assert_max_num_queries, url
):
    cache.clear()

    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url)

    assert response.status_code == 200


def test_category_page_second_visit_needs_few_queries_when_cache_is_warm(
    client, big_shop, django_assert_max_num_queries
):
    client.get("/c/women/")

    with django_assert_max_num_queries(2):
        response = client.get("/c/women/")

    assert response.status_code == 200
