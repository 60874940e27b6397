"""PostgreSQL backend: full-text search on a generated tsvector column, pg_trgm for typos.

Documents are already cut into terms in Python (jieba for Chinese), so the 'simple'
configuration only lower-cases and never stems: index and query terms stay identical.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from omnimall.search.domain import QueryTerm

MIN_SIMILARITY = 0.3  # pg_trgm's default threshold for the % operator


def _tsquery(terms: Sequence[QueryTerm], *, weights: str = "") -> str:
    # Terms are runs of word characters (domain.tokenize): no quote, colon or operator can
    # reach to_tsquery's syntax. Each is quoted anyway and matched as a prefix (":*").
    parts = []
    for t in terms:
        flags = ("*" if t.prefix else "") + weights
        parts.append(f"'{t.text}':{flags}" if flags else f"'{t.text}'")
    return " & ".join(parts)


class PostgresBackend:
    vendor = "postgresql"

    def match(self, terms: Sequence[QueryTerm], *, limit: int) -> list[int]:
        if not terms:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT product_id FROM search_searchdocument, to_tsquery('simple', %s) q "
                "WHERE document @@ q ORDER BY ts_rank(document, q) DESC, product_id LIMIT %s",
                [_tsquery(terms), limit],
            )
            return [row[0] for row in cursor.fetchall()]

    def match_titles(self, terms: Sequence[QueryTerm], *, limit: int) -> list[tuple[str, str, str]]:
        if not terms:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.slug, p.name_en, p.name_zh FROM search_searchdocument d "
                "JOIN catalog_product p ON p.id = d.product_id "
                "WHERE d.document @@ to_tsquery('simple', %s) AND p.is_active "
                "ORDER BY p.popularity DESC, p.id LIMIT %s",
                [_tsquery(terms, weights="A"), limit],  # weight A: the product name
            )
            return list(cursor.fetchall())

    def closest_terms(self, term: str, *, limit: int, version: int) -> list[str]:
        with connection.cursor() as cursor:
            # "%%" is the pg_trgm similarity operator, served by the trigram GIN index.
            cursor.execute(
                "SELECT term FROM search_searchterm "
                "WHERE is_latin AND doc_count > 0 AND term %% %s AND term <> %s "
                "ORDER BY similarity(term, %s) DESC, doc_count DESC, term LIMIT %s",
                [term, term, term, limit],
            )
            return [row[0] for row in cursor.fetchall()]

    def begin_rebuild(self) -> None:
        # Plain DELETE + INSERT (not TRUNCATE): searches keep reading the old rows meanwhile.
        return

    def finish_rebuild(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_searchdocument")
            cursor.execute("ANALYZE search_searchterm")
