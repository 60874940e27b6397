"""The search index's own tables. The vendor-specific index structures (an FTS5 virtual
table on SQLite; a generated tsvector column with GIN indexes on PostgreSQL) are created
by migration 0002 and kept in step by the database itself, so these rows are the one
thing the Python code writes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchDocument(models.Model):
    """The indexed text of one active product: its terms, space-separated.

    ``title`` holds the name's terms (weighted higher, and what suggestions match);
    ``body`` the brand, category path, colours and attribute values.
    """

    product = models.OneToOneField(
        "catalog.Product",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="search_document",
        db_constraint=False,  # index rows are rebuilt in bulk; catalog deletes reindex anyway
    )
    title = models.TextField(blank=True)
    body = models.TextField(blank=True)

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")

    def __str__(self) -> str:
        return f"search document of product {self.product_id}"

    def terms(self) -> set[str]:
        return set(self.title.split()) | set(self.body.split())


class SearchTerm(models.Model):
    """The vocabulary: every indexed term and how many documents hold it.

    Typo correction looks up near terms here (pg_trgm on PostgreSQL, rapidfuzz on SQLite);
    counts may drift slightly under concurrent re-indexing, which only shifts the
    preference between equally close corrections. A rebuild recounts exactly.
    """

    term = models.CharField(max_length=64, primary_key=True)
    doc_count = models.PositiveIntegerField(default=0)
    # Plain Latin word of 3+ letters: the terms typo correction considers.
    is_latin = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("search term")
        verbose_name_plural = _("search terms")

    def __str__(self) -> str:
        return self.term


class IndexedCategory(models.Model):
    """What the index last saw of each category path's names.

    ``CategoriesChanged`` carries no ids: comparing signatures finds the categories whose
    (inherited) names changed, so only their products are re-indexed.
    """

    category = models.OneToOneField(
        "catalog.Category",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    signature = models.CharField(max_length=40)

    class Meta:
        verbose_name = _("indexed category")
        verbose_name_plural = _("indexed categories")

    def __str__(self) -> str:
        return f"{self.category_id}: {self.signature}"


class ZeroResultQuery(models.Model):
    """A search text that found nothing: what shoppers want and the catalog lacks."""

    query = models.CharField(_("query"), max_length=100, unique=True)
    count = models.PositiveIntegerField(_("searches"), default=1)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("zero-result search")
        verbose_name_plural = _("zero-result searches")
        ordering = ["-count", "-last_seen"]
        indexes = [models.Index(fields=["-count"], name="zeroresult_count_idx")]

    def __str__(self) -> str:
        return self.query
