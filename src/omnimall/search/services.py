"""Search writes: (re-)indexing products, rebuilding the index, recording empty searches."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction
from tqdm import tqdm

from omnimall.core import clock
from omnimall.core.cache_versions import bump_version

from . import indexing
from .backends import get_backend
from .domain import is_latin_term, normalise_query
from .models import SearchDocument, SearchTerm

logger = logging.getLogger(__name__)

# Bumped whenever the index changes: cached results and vocabularies are keyed by it.
# (Not the catalog's namespace: that one is bumped before the index has caught up.)
SEARCH_CACHE_NAMESPACE = "search"
_BATCH = 1000
_REBUILD_BATCH = 2000


def reindex_products(*, product_ids: Iterable[int]) -> int:
    """Bring the index in step with these products (inactive or deleted ones removed)."""
    ids = sorted(set(product_ids))
    if not ids:
        return 0
    written = 0
    with transaction.atomic():
        # Many batches share one load of every brand and category name.
        lookups = indexing.load_lookups() if len(ids) > _BATCH else None
        for batch in indexing.chunked(ids, _BATCH):
            written += indexing.replace_documents(batch, lookups)
        if written:
            bump_version(SEARCH_CACHE_NAMESPACE)
    return written


def reindex_changed_categories() -> int:
    """Re-index the products of categories whose names (or ancestors' names) changed."""
    paths = indexing.category_paths()
    signatures = indexing.category_signatures(paths)
    with transaction.atomic():
        indexing.forget_categories_except(signatures)
        changed = indexing.changed_categories(signatures)
        if not changed:
            return 0
        written = reindex_products(product_ids=indexing.product_ids_in_categories(changed))
        indexing.store_category_signatures(changed, replace_all=False)
    return written


def rebuild_index(*, progress: bool = False) -> int:
    """Rebuild the whole index from the catalog; returns the number of documents.

    Documents are built first, outside any transaction (jieba is the slow part), then
    swapped in by one short transaction, so shoppers never see a half-built index and
    SQLite's single writer lock is held only for the bulk inserts.
    """
    ids = indexing.active_product_ids()
    lookups = indexing.load_lookups()
    rows: list[tuple[int, str, str]] = []
    counts: Counter[str] = Counter()
    with tqdm(total=len(ids), disable=not progress, desc="Indexing", unit="product") as bar:
        for batch in indexing.chunked(ids, _REBUILD_BATCH):
            for doc in indexing.build_documents(batch, lookups):
                rows.append((doc.product_id, doc.title, doc.body))
                counts.update(doc.terms())
            bar.update(len(batch))
    with (
        transaction.atomic(),
        tqdm(total=len(rows), disable=not progress, desc="Writing", unit="doc") as bar,
    ):
        backend = get_backend()
        backend.begin_rebuild()
        SearchDocument.objects.all().delete()
        SearchTerm.objects.all().delete()
        for chunk in indexing.chunked(rows, _REBUILD_BATCH):
            SearchDocument.objects.bulk_create(
                [SearchDocument(product_id=pid, title=t, body=b) for pid, t, b in chunk]
            )
            bar.update(len(chunk))
        SearchTerm.objects.bulk_create(
            [SearchTerm(term=t, doc_count=n, is_latin=is_latin_term(t)) for t, n in counts.items()],
            batch_size=_REBUILD_BATCH,
        )
        indexing.store_category_signatures(
            indexing.category_signatures(lookups.category_paths), replace_all=True
        )
        backend.finish_rebuild()
        bump_version(SEARCH_CACHE_NAMESPACE)
    if not connection.in_atomic_block:  # e.g. a test or a caller's transaction: skip
        backend.compact()
    return len(rows)


# One statement, race-safe on both databases (SQLite 3.24+ and PostgreSQL speak ON CONFLICT):
# a search box is hit constantly, so counting costs one round trip, not a savepoint dance.
_COUNT_ZERO_RESULT_SQL = (
    "INSERT INTO search_zeroresultquery (query, count, first_seen, last_seen) "
    "VALUES (%s, 1, %s, %s) "
    "ON CONFLICT (query) DO UPDATE SET count = search_zeroresultquery.count + 1, "
    "last_seen = excluded.last_seen"
)


def record_zero_result_query(*, query: str) -> None:
    """Count one search whose text found nothing."""
    text = normalise_query(query).lower()
    if not text:
        return
    now = connection.ops.adapt_datetimefield_value(clock.now())
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_ZERO_RESULT_SQL, [text, now, now])


def reindex_products_quietly(*, product_ids: Iterable[int]) -> None:
    """For event handlers: the catalog change is committed whatever happens here, so a
    failure is logged (a rebuild repairs the index) instead of failing the shopper's or
    merchandiser's request after the fact."""
    try:
        reindex_products(product_ids=product_ids)
    except Exception:
        logger.exception("search: re-indexing products failed")


def reindex_changed_categories_quietly() -> None:
    try:
        reindex_changed_categories()
    except Exception:
        logger.exception("search: re-indexing changed categories failed")
