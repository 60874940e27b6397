"""No query string, path or header a shopper or a crawler sends turns into a 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

HUGE = "x" * 20_000

BAD_QUERIES = [
    "?sort=DROP%20TABLE",
    "?sort=",
    "?cursor=not-a-cursor",
    "?cursor=" + "A" * 5000,
    "?cursor=%00%ff%fe",
    "?brand=no-such-brand&size=999&colour=chartreuse&price=abc",
    "?price=100-300&price=-5-&price=1000-",
    "?page_size=-1",
    "?page_size=100000000000000000000",
    "?page_size=abc",
    "?page=99999",
    "?brand=" + HUGE,
    "?" + "&".join(f"size={n}" for n in range(900)),
    "?%ff%fe=%c0%af",
    "?colour[]=black&brand[$ne]=1",
    "?size=%00&brand=%00&colour=%00&price=%00&sort=%00&cursor=%00&page_size=%00",
    "?size=M%00L",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_category_page_answers_200_when_query_string_is_malformed(client, shop, query):
    response = client.get("/c/women/" + query)

    assert response.status_code == 200


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_search_page_answers_200_when_query_string_is_malformed(client, shop, query):
    response = client.get("/search/" + query + "&q=tee")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/c/",
        "/c/%00/",
        "/c/" + "deep/" * 300,
        "/c/women/../shoes/",
        "/c/女装/",
        "/p/%00/",
        "/p/" + "p" * 500 + "/",
        "/p/cotton-tee%27%20OR%201=1/",
        "/p/商品/",
    ],
)
def test_unknown_paths_answer_404_when_nothing_matches(client, shop, path):
    response = client.get(path)

    assert response.status_code == 404


@pytest.mark.parametrize(
    "query", ["?q=" + HUGE, "?q=%00", "?q=%20%20", "?q=<>&q=two", "?q=" + "蛋" * 5000]
)
def test_search_and_suggestions_answer_200_when_text_is_odd(client, shop, query):
    page = client.get("/search/" + query)
    fragment = client.get("/search/suggest/" + query)

    assert page.status_code == 200
    assert fragment.status_code == 200


def test_product_page_answers_200_when_sku_param_is_huge(client, shop):
    response = client.get("/p/cotton-tee/?sku=" + HUGE)

    assert response.status_code == 200


def test_pages_refuse_post_with_405_when_method_is_not_get(client, shop):
    response = client.post("/c/women/")

    assert response.status_code == 405
