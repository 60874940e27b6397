from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from omnimall.catalog.models import Product
from omnimall.search.models import SearchTerm, ZeroResultQuery
from omnimall.search.services import rebuild_index, record_zero_result_query, reindex_products
from tests.catalog.factories import ProductFactory, make_category

THREADS = 8


def _record(query: str) -> None:
    try:
        record_zero_result_query(query=query)
    finally:
        connection.close()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_record_zero_result_query_counts_every_search_when_threads_race():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(_record, ["Unicorn Boots"] * THREADS * 3))

    row = ZeroResultQuery.objects.get()
    assert (row.query, row.count) == ("unicorn boots", THREADS * 3)


def _reindex(product_id: int) -> None:
    try:
        reindex_products(product_ids=[product_id])
    finally:
        connection.close()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_reindex_products_keeps_vocabulary_exact_when_threads_share_terms():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    category = make_category("shoes", name_en="Shoes", name_zh="鞋履")
    ids = [
        ProductFactory(category=category, name_en=f"Trail Sneakers {n}", name_zh="跑鞋").pk
        for n in range(THREADS * 2)
    ]
    reindex_products(product_ids=ids)  # (factories bypass the catalog services' events)
    # Every product now shares new words: each thread adds and counts the same terms.
    for n, pid in enumerate(ids):
        Product.objects.filter(pk=pid).update(name_en=f"Velvet Canvas Loafers {n}")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(_reindex, ids))

    incremental = dict(SearchTerm.objects.values_list("term", "doc_count"))
    rebuild_index()
    assert incremental == dict(SearchTerm.objects.values_list("term", "doc_count"))
    assert incremental["velvet"] == len(ids)
    assert "trail" not in incremental
