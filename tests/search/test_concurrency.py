from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from omnimall.search.models import ZeroResultQuery
from omnimall.search.services import record_zero_result_query

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
