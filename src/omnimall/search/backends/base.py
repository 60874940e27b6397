"""The search backend protocol. One implementation per database engine (see ``get_backend``).

Writes are not part of it: the Python code writes ``SearchDocument`` and ``SearchTerm``
rows through the ORM, and each database keeps its own index structures in step (FTS5
triggers on SQLite, a generated tsvector column on PostgreSQL). A backend answers reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from omnimall.search.domain import QueryTerm

SUGGEST_CANDIDATES = 200  # name hits considered for suggestions (most popular shown)


def title_suggestions_sql(hits_sql: str) -> str:
    """Suggestion rows over a backend's name-hit subquery (which selects ``id``, takes
    the match and SUGGEST_CANDIDATES as its two parameters): the most popular hits of
    active brands. One place for who may be suggested, whatever the engine."""
    # hits_sql is a backend's module constant, never user text: values go as parameters.
    return (
        "SELECT p.slug, p.name_en, p.name_zh, p.category_id "  # noqa: S608
        f"FROM ({hits_sql}) hits JOIN catalog_product p ON p.id = hits.id "
        "JOIN catalog_brand b ON b.id = p.brand_id WHERE p.is_active AND b.is_active "
        "ORDER BY p.popularity DESC, p.id LIMIT %s"
    )


class SearchBackend(Protocol):
    vendor: str

    def match(self, terms: Sequence[QueryTerm], *, limit: int) -> list[int]:
        """Ids of products whose documents hold every term, best match first."""

    def match_titles(
        self, terms: Sequence[QueryTerm], *, limit: int
    ) -> list[tuple[str, str, str, int]]:
        """(slug, name_en, name_zh, category_id) of active products of active brands whose
        NAME holds every term, for suggestions: most popular first. The caller drops those
        in hidden categories (the catalog knows which)."""

    def closest_terms(self, term: str, *, limit: int, version: int) -> list[str]:
        """Vocabulary terms nearest to ``term`` (a likely typo), best first.

        ``version`` is the search index version, for backends that cache the vocabulary.
        """

    def begin_rebuild(self) -> None:
        """Inside the rebuild's transaction, before all documents are deleted and reinserted:
        a backend may switch its per-row index maintenance off."""

    def finish_rebuild(self) -> None:
        """Inside the rebuild's transaction, after the documents were written."""

    def compact(self) -> None:
        """After a rebuild committed, outside any transaction: reclaim the old rows."""
