"""The search page and the live suggestions under the search box."""

from __future__ import annotations

import re

import pytest

from omnimall.search.models import ZeroResultQuery
from omnimall.search.services import rebuild_index

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
PAYLOAD = "<script>alert('x')</script>"


@pytest.fixture
def indexed_shop(shop):
    rebuild_index()
    return shop


def _cards(html: str) -> list[str]:
    return re.findall(r'class="card-name">([^<]+)<', html)


def test_search_lists_matching_products_with_facets_when_english_word_matches(client, indexed_shop):
    response = client.get("/search/?q=sneakers", **EN)

    html = response.content.decode()
    assert response.status_code == 200
    assert _cards(html) == ["Court Sneakers"]
    assert 'class="facet facet-brand"' in html
    assert '<option value="relevance" selected>' in html
    assert '<meta name="robots" content="noindex, follow">' in html


def test_search_finds_product_when_query_is_chinese(client, indexed_shop):
    response = client.get("/search/?q=运动鞋")

    assert "经典运动鞋" in _cards(response.content.decode())


def test_search_tolerates_typo_when_latin_word_is_misspelt(client, indexed_shop):
    response = client.get("/search/?q=sneakr", **EN)

    html = response.content.decode()
    assert "Court Sneakers" in _cards(html)


def test_search_filters_results_by_facet_when_selected(client, indexed_shop):
    response = client.get("/search/?q=northwind&colour=black&size=S", **EN)

    assert _cards(response.content.decode()) == ["Cotton Tee"]


def test_search_records_query_and_suggests_when_nothing_found(client, indexed_shop):
    response = client.get("/search/?q=qwertyuiop", **EN)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing found for “qwertyuiop”." in html
    assert _cards(html) == []
    assert ZeroResultQuery.objects.get(query="qwertyuiop").count == 1


def test_search_records_nothing_when_only_facets_empty_the_page(client, indexed_shop):
    response = client.get("/search/?q=tee&price=1000-", **EN)

    assert response.status_code == 200
    assert _cards(response.content.decode()) == []
    assert not ZeroResultQuery.objects.exists()


def test_search_counts_repeated_zero_result_query_each_time(client, indexed_shop):
    client.get("/search/?q=qwertyuiop", **EN)
    client.get("/search/?q=QWERTYUIOP", **EN)

    assert ZeroResultQuery.objects.get(query="qwertyuiop").count == 2


def test_search_shows_alternatives_when_nothing_found_but_close_terms_exist(client, indexed_shop):
    response = client.get("/search/?q=sneakrz+linnen", **EN)

    html = response.content.decode()
    if "Try one of these instead:" in html:
        assert re.search(r'<ul class="chips"><li><a href="/search/\?q=[^"]+">', html)
    else:  # the typo tolerance found something instead: then results are shown
        assert _cards(html)


def test_search_escapes_query_text_when_it_contains_markup(client, indexed_shop):
    response = client.get("/search/", {"q": PAYLOAD}, **EN)

    html = response.content.decode()
    assert response.status_code == 200
    assert PAYLOAD not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_search_page_prompts_when_query_is_empty(client, indexed_shop):
    response = client.get("/search/?q=", **EN)

    assert "Type what you are looking for" in response.content.decode()
    assert not ZeroResultQuery.objects.exists()


def test_suggestions_fragment_links_products_when_prefix_matches(client, indexed_shop):
    response = client.get("/search/suggest/?q=sneak", **EN)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'class="suggestion-list"' in html
    assert "Sneakers" in html


def test_suggestions_fragment_escapes_text_when_it_contains_markup(client, indexed_shop):
    response = client.get("/search/suggest/", {"q": PAYLOAD}, **EN)

    assert PAYLOAD not in response.content.decode()


@pytest.mark.parametrize(
    "query",
    ["sneakers&brand=northwind&sort=price_asc", "运动鞋&size=40", "sneakr", "qwertyuiop"],
)
def test_search_page_stays_within_query_budget_when_cache_is_cold(
    client, indexed_shop, django_assert_max_num_queries, query
):
    with django_assert_max_num_queries(10):
        response = client.get("/search/?q=" + query, **EN)

    assert response.status_code == 200


def test_suggestions_stay_within_query_budget_when_cache_is_cold(
    client, indexed_shop, django_assert_max_num_queries
):
    with django_assert_max_num_queries(5):
        response = client.get("/search/suggest/?q=cot", **EN)

    assert response.status_code == 200
