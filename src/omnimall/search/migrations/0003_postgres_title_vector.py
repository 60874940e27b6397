"""PostgreSQL: a tsvector of the product name alone, with its own GIN index.

Ranking every match of a broad query ("black": tens of thousands of rows) means reading
every matching row. With the names indexed on their own, a search takes name hits first
and then other hits, each up to the result limit, and ranks only those: bounded work.
No-op on SQLite (FTS5 filters by column natively).
"""

from django.db import migrations

_CREATE = [
    """ALTER TABLE search_searchdocument ADD COLUMN title_document tsvector
        GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, title)) STORED""",
    "CREATE INDEX search_title_gin ON search_searchdocument USING gin (title_document)",
]
_DROP = [
    "DROP INDEX IF EXISTS search_title_gin",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS title_document",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0002_backend_structures")]

    operations = [migrations.RunPython(_run(_CREATE), _run(_DROP))]
