"""Vendor-specific index structures; each step runs only on its own database.

SQLite: an FTS5 virtual table over ``search_searchdocument`` (external content, so the
text is stored once) kept in step by triggers. Note that Django rebuilds SQLite tables
on some ALTERs and that drops triggers: a later migration altering SearchDocument must
recreate them (``_SQLITE_TRIGGERS`` below).

PostgreSQL: ``pg_trgm``; a generated, weighted tsvector column (name = A, the rest = B)
with a GIN index; a trigram GIN index on the vocabulary for typo correction.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

_SQLITE_CREATE = [
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        title, body,
        content='search_searchdocument', content_rowid='product_id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    )""",
]
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER search_document_ai AFTER INSERT ON search_searchdocument BEGIN
        INSERT INTO search_fts(rowid, title, body) VALUES (new.product_id, new.title, new.body);
    END""",
    """CREATE TRIGGER search_document_ad AFTER DELETE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', old.product_id, old.title, old.body);
    END""",
    """CREATE TRIGGER search_document_au AFTER UPDATE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', old.product_id, old.title, old.body);
        INSERT INTO search_fts(rowid, title, body) VALUES (new.product_id, new.title, new.body);
    END""",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_au",
    "DROP TABLE IF EXISTS search_fts",
]

_POSTGRES_CREATE = [
    """ALTER TABLE search_searchdocument ADD COLUMN document tsvector
        GENERATED ALWAYS AS (
            setweight(to_tsvector('simple'::regconfig, title), 'A')
            || setweight(to_tsvector('simple'::regconfig, body), 'B')
        ) STORED""",
    "CREATE INDEX search_document_gin ON search_searchdocument USING gin (document)",
    "CREATE INDEX search_term_trgm ON search_searchterm USING gin (term gin_trgm_ops)",
]
_POSTGRES_DROP = [
    "DROP INDEX IF EXISTS search_term_trgm",
    "DROP INDEX IF EXISTS search_document_gin",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS document",
]


class _TrigramExtension(TrigramExtension):
    """Created when missing (PostgreSQL only); never dropped when migrating back: other
    apps may use pg_trgm too, and Django's own backwards step is not vendor-guarded."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        return


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        _TrigramExtension(),  # does nothing on other databases
        migrations.RunPython(
            _run({"sqlite": _SQLITE_CREATE + _SQLITE_TRIGGERS, "postgresql": _POSTGRES_CREATE}),
            _run({"sqlite": _SQLITE_DROP, "postgresql": _POSTGRES_DROP}),
        ),
    ]
