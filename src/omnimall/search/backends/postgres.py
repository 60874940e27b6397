"""PostgreSQL backend: full-text search on a generated tsvector column, pg_trgm for typos.

Documents are already cut into terms in Python (jieba for Chinese), so the 'simple'
configuration only lower-cases and never stems: index and query terms stay identical.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from omnimall.search.domain import QueryTerm

from .base import SUGGEST_CANDIDATES, title_suggestions_sql

MIN_SIMILARITY = 0.3  # pg_trgm's default threshold for the % operator
_TITLE_SUGGESTIONS_SQL = title_suggestions_sql(
    # The first name hits only: bounded work per keystroke.
    "SELECT product_id AS id FROM search_searchdocument"
    " WHERE title_document @@ to_tsquery('simple', %s) LIMIT %s"
)
# Name hits (their own GIN index) up to the limit, ranked; then, only if they fall short
# (LIMIT 0 never reads its input), other hits up to the rest of the limit, ranked.
_MATCH_SQL = """
WITH names AS MATERIALIZED (
    SELECT product_id, ts_rank(document, q) AS r
    FROM search_searchdocument, to_tsquery('simple', %(q)s) q
    WHERE title_document @@ q LIMIT %(limit)s
)
SELECT product_id FROM (
    SELECT product_id, 0 AS tier, r FROM names
    UNION ALL
    (SELECT product_id, 1, ts_rank(document, q)
     FROM search_searchdocument, to_tsquery('simple', %(q)s) q
     WHERE document @@ q AND NOT title_document @@ q
     LIMIT (SELECT %(limit)s - count(*) FROM names))
) hits ORDER BY tier, r DESC, product_id
"""


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
        """Name hits first, then the rest, each ranked by ts_rank: bounded work.

        Ranking every match of a broad query ("black": 40% of the catalog) would read every
        matching row. Here each tier stops at ``limit`` rows: name hits come from their own
        GIN index, and the other hits are read only when the name hits fall short.
        """
        if not terms:
            return []
        with connection.cursor() as cursor:
            cursor.execute(_MATCH_SQL, {"q": _tsquery(terms), "limit": limit})
            return [row[0] for row in cursor.fetchall()]

    def match_titles(
        self, terms: Sequence[QueryTerm], *, limit: int
    ) -> list[tuple[str, str, str, int]]:
        if not terms:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                _TITLE_SUGGESTIONS_SQL,
                [_tsquery(terms), SUGGEST_CANDIDATES, limit],
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

    def compact(self) -> None:
        # A rebuild leaves 100k dead rows that every bitmap scan would visit until
        # autovacuum comes by; VACUUM cannot run inside a transaction block.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE search_searchdocument")
            cursor.execute("VACUUM ANALYZE search_searchterm")

    def finish_rebuild(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_searchdocument")
            cursor.execute("ANALYZE search_searchterm")
