"""SQLite FTS5 backend (the embedded default).

Typo correction runs rapidfuzz over the Latin vocabulary cached in each process and
keyed by the search index version. Why not a SQL pre-filter: SQLite has no trigram or
edit-distance index, so a pre-filter could only be "same first letters / similar length",
which misses typos in the first letter and still needs a query per term. The vocabulary of
a catalog is small (tens of thousands of words even at 100k products: names repeat their
words), rapidfuzz's C scorer goes through 50k terms in a few milliseconds, and the list is
reloaded only when the index changed and a typo actually needs correcting.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from django.db import connection
from rapidfuzz import fuzz, process

from omnimall.search.domain import QueryTerm
from omnimall.search.models import SearchTerm

from .base import SUGGEST_CANDIDATES, title_suggestions_sql

VOCABULARY_CAP = 50_000  # most frequent Latin terms kept in memory per process
_TITLE_SUGGESTIONS_SQL = title_suggestions_sql(
    # The first name hits only: bounded work per keystroke.
    "SELECT rowid AS id FROM search_fts WHERE search_fts MATCH %s LIMIT %s"
)
MIN_SIMILARITY = 70.0  # rapidfuzz ratio (0-100); "sneakr" ~ "sneakers" is 86
# bm25 column weights (title, body): a hit in the product name counts four times more.
_MATCH_SQL = (
    "SELECT rowid FROM search_fts WHERE search_fts MATCH %s "
    "ORDER BY bm25(search_fts, 4.0, 1.0), rowid LIMIT %s"
)

# The same triggers as migration 0002 (which keeps its own frozen copy).
_TRIGGERS = {
    "search_document_ai": """CREATE TRIGGER search_document_ai
        AFTER INSERT ON search_searchdocument BEGIN
        INSERT INTO search_fts(rowid, title, body) VALUES (new.product_id, new.title, new.body);
    END""",
    "search_document_ad": """CREATE TRIGGER search_document_ad
        AFTER DELETE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', old.product_id, old.title, old.body);
    END""",
    "search_document_au": """CREATE TRIGGER search_document_au
        AFTER UPDATE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', old.product_id, old.title, old.body);
        INSERT INTO search_fts(rowid, title, body) VALUES (new.product_id, new.title, new.body);
    END""",
}


def _fts_expression(terms: Sequence[QueryTerm]) -> str:
    # Terms are runs of word characters (domain.tokenize), so quoting them makes every one
    # a plain string to FTS5: no operator (OR, NEAR, AND, NOT) or syntax can slip through.
    return " AND ".join(f'"{t.text}"*' if t.prefix else f'"{t.text}"' for t in terms)


class SqliteBackend:
    vendor = "sqlite"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._vocab_version: int | None = None
        self._vocab_terms: list[str] = []
        self._vocab_counts: dict[str, int] = {}

    def match(self, terms: Sequence[QueryTerm], *, limit: int) -> list[int]:
        if not terms:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                _MATCH_SQL,
                [_fts_expression(terms), limit],
            )
            return [row[0] for row in cursor.fetchall()]

    def match_titles(
        self, terms: Sequence[QueryTerm], *, limit: int
    ) -> list[tuple[str, str, str, int]]:
        if not terms:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                _TITLE_SUGGESTIONS_SQL,
                [f"title : ({_fts_expression(terms)})", SUGGEST_CANDIDATES, limit],
            )
            return list(cursor.fetchall())

    def closest_terms(self, term: str, *, limit: int, version: int) -> list[str]:
        terms, counts = self._vocabulary(version)
        if not terms:
            return []
        found = process.extract(
            term, terms, scorer=fuzz.ratio, score_cutoff=MIN_SIMILARITY, limit=limit * 4
        )
        ranked = sorted(found, key=lambda hit: (-hit[1], -counts[hit[0]], hit[0]))
        return [hit[0] for hit in ranked[:limit] if hit[0] != term]

    def _vocabulary(self, version: int) -> tuple[list[str], dict[str, int]]:
        with self._lock:
            if self._vocab_version != version:
                rows = list(
                    SearchTerm.objects.filter(is_latin=True, doc_count__gt=0)
                    .order_by("-doc_count", "term")
                    .values_list("term", "doc_count")[:VOCABULARY_CAP]
                )
                self._vocab_terms = [term for term, _ in rows]
                self._vocab_counts = dict(rows)
                self._vocab_version = version
            return self._vocab_terms, self._vocab_counts

    def begin_rebuild(self) -> None:
        # Per-row triggers would cost a 'delete' and an insert into FTS5 per document; a
        # rebuild drops them (DDL is transactional in SQLite: a failure restores them),
        # empties the index at once and, in finish_rebuild, indexes the new rows in one pass.
        with connection.cursor() as cursor:
            for name in _TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")

    def compact(self) -> None:
        return  # finish_rebuild already merged the FTS5 segments; SQLite reuses free pages

    def finish_rebuild(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
            for sql in _TRIGGERS.values():
                cursor.execute(sql)
