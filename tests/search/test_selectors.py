from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from omnimall.catalog.selectors import list_products, parse_listing_query
from omnimall.catalog.services import save_audited
from omnimall.search.selectors import search_listing, suggest
from tests.catalog.factories import TEST_ACTOR


def _slugs(result) -> list[str]:
    return [card.slug for card in result.page.items]


@pytest.mark.parametrize("query", ["运动鞋", "跑步鞋", "男士 运动鞋", "鞋"])
def test_search_listing_finds_product_when_query_is_chinese(shop, query):
    result = search_listing(query, {})

    assert "trail-runner" in _slugs(result)


def test_search_listing_finds_tshirt_when_query_mixes_latin_and_chinese(shop):
    assert "cotton-tee" in _slugs(search_listing("T恤", {}))
    assert "cotton-tee" in _slugs(search_listing("短袖t恤", {}))


def test_search_listing_corrects_typo_when_term_is_unknown(shop):
    result = search_listing("sneakr", {})

    assert result.corrected_query == "sneakers"
    assert _slugs(result) == ["trail-runner"]


def test_search_listing_matches_prefix_when_word_is_incomplete(shop):
    result = search_listing("Trai RUNN", {})

    assert result.corrected_query is None
    assert _slugs(result) == ["trail-runner"]


def test_search_listing_finds_by_brand_colour_attribute_and_category(shop):
    assert _slugs(search_listing("stride", {})) == ["trail-runner"]
    assert _slugs(search_listing("navy", {})) == ["trail-runner"]
    assert _slugs(search_listing("网面", {})) == ["trail-runner"]
    assert set(_slugs(search_listing("tops", {}))) == {"cotton-tee", "silk-dress"}


def test_search_listing_ranks_name_hits_first_when_sort_is_relevance(shop):
    result = search_listing("sneakers", {})

    assert result.page.sort == "relevance"
    assert _slugs(result)[0] == "trail-runner"


def test_search_listing_applies_facets_when_params_filter(shop):
    result = search_listing("tops", {"colour": ["red"]})

    assert _slugs(result) == ["silk-dress"]


def test_search_listing_returns_empty_page_when_query_is_blank(shop):
    result = search_listing("   ", {})

    assert result.query == ""
    assert result.page.total == 0
    assert result.page.items == ()


def test_search_listing_suggests_alternatives_when_nothing_matches(shop):
    result = search_listing("qqqzzz", {})

    assert result.page.total == 0
    assert result.corrected_query is None
    assert "Shoes" in result.suggestions or "鞋履" in result.suggestions


def _listing_queries(product_ids: tuple[int, ...]) -> int:
    """What the catalog's own listing costs on a cold cache, for these ids."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        list_products(parse_listing_query({}, product_ids=product_ids))
    cache.clear()
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("query", "own_queries"), [("sneakers", 2), ("sneakr", 5)])
def test_search_listing_adds_few_queries_to_the_listing_when_cache_is_cold(
    shop, django_assert_max_num_queries, query, own_queries
):
    listing_cost = _listing_queries((shop.runner.pk,))

    # versions + match; a typo adds vocabulary lookups and a second match
    with django_assert_max_num_queries(listing_cost + own_queries):
        result = search_listing(query, {})

    assert [card.slug for card in result.page.items] == ["trail-runner"]


def test_search_listing_uses_two_queries_at_most_when_repeated(shop, django_assert_max_num_queries):
    search_listing("tops", {})

    with django_assert_max_num_queries(2):
        result = search_listing("tops", {})

    assert result.page.total == 2


def test_suggest_returns_prefix_matches_when_typing(shop, django_assert_max_num_queries):
    # versions, categories + brands, the category tree (for hidden ones), products
    with django_assert_max_num_queries(4):
        found = suggest("snea")

    assert ("Trail Running Sneakers", "product", "/p/trail-runner/") in [
        (s.text, s.kind, s.url) for s in found
    ]
    assert ("Sneakers", "category", "/c/shoes/sneakers/") in [
        (s.text, s.kind, s.url) for s in found
    ]


def test_suggest_leaves_out_products_shoppers_cannot_open_when_brand_or_category_hidden(
    shop, django_capture_on_commit_callbacks
):
    shop.stride.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        save_audited(instance=shop.stride, actor=TEST_ACTOR)
    assert "/p/trail-runner/" not in [s.url for s in suggest("trail")]

    shop.stride.is_active = True
    shop.shoes.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        save_audited(instance=shop.stride, actor=TEST_ACTOR)
        save_audited(instance=shop.shoes, actor=TEST_ACTOR)
    urls = [s.url for s in suggest("sne")]
    assert "/p/trail-runner/" not in urls
    assert "/c/shoes/sneakers/" not in urls


def test_suggest_answers_in_chinese_when_query_is_chinese(shop):
    found = suggest("连衣")

    assert [(s.text, s.url) for s in found] == [("真丝连衣裙", "/p/silk-dress/")]


def test_suggest_returns_nothing_when_query_is_blank_or_syntax(shop):
    assert suggest("") == ()
    assert suggest('"*:') == ()


def test_search_listing_suggests_single_words_when_known_words_match_nothing_together(shop):
    result = search_listing("silk sneakers", {})

    assert result.page.total == 0
    assert result.suggestions[:2] == ("silk", "sneakers")


def test_suggest_returns_chinese_category_and_product_when_query_is_chinese_prefix(shop):
    found = [(s.text, s.kind, s.url) for s in suggest("运动")]

    assert ("运动鞋", "category", "/c/shoes/sneakers/") in found
    assert ("男士越野跑步运动鞋", "product", "/p/trail-runner/") in found


def test_search_listing_echoes_query_as_typed_when_a_differently_cased_one_was_cached(shop):
    search_listing("sneakers", {})

    result = search_listing("Sneakers", {})

    assert result.query == "Sneakers"
    assert _slugs(result) == ["trail-runner"]
