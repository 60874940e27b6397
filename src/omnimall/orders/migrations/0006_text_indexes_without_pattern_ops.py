"""The order's text columns lose their ``varchar_pattern_ops`` twins on PostgreSQL.

``unique=True`` / ``db_index=True`` on a CharField makes Django add, on PostgreSQL, a second
index per column (``…_like``) for ``LIKE 'x%'``. Nothing looks up the order's number, guest
token, cart token, pick-up code or state by a prefix (whole values, ``IN``; the back office's
search compares the number whole or ``UPPER(number)``, which no btree serves), yet every new
order and every change of state wrote all five. The model now declares its indexes and
unique constraints in ``Meta``, which makes no pattern index.

The state changes as ``makemigrations`` wrote it; the database is not rebuilt: on PostgreSQL
the pattern indexes are dropped and the indexes and constraints kept, under their new names
(instant: no index is built, so no table is locked while one is). SQLite never had pattern
indexes; its three plain indexes are made anew under the new names (SQLite cannot rename an
index), and its unique columns stay as they are (SQLite remakes the table from the model
whenever a later migration changes them). Backwards puts everything back.
"""

from django.db import migrations, models

_TABLE = "orders_order"
# Django's names for the indexes of ``db_index=True`` (a hash of table and column: the same in
# every database these migrations made), PostgreSQL's for ``UNIQUE`` in CREATE TABLE, and the
# names in Meta.
_INDEXES = [  # column, index, new name
    ("state", "orders_order_state_fbeebb0f", "order_state_idx"),
    ("pickup_code", "orders_order_pickup_code_b4a036e5", "order_pickup_code_idx"),
    ("cart_token", "orders_order_cart_token_34de270f", "order_cart_token_idx"),
]
_UNIQUE = [  # column, constraint, new name
    ("number", "orders_order_number_key", "order_number_uniq"),
    ("guest_token", "orders_order_guest_token_key", "order_guest_token_uniq"),
]
_PATTERN = [  # column, index (PostgreSQL only)
    ("number", "orders_order_number_abc9e0f2_like"),
    ("guest_token", "orders_order_guest_token_b604a990_like"),
    ("cart_token", "orders_order_cart_token_34de270f_like"),
    ("pickup_code", "orders_order_pickup_code_b4a036e5_like"),
    ("state", "orders_order_state_fbeebb0f_like"),
]


def _rename_index(schema_editor, column, old, new):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'ALTER INDEX "{old}" RENAME TO "{new}"')
    else:
        schema_editor.execute(f'DROP INDEX "{old}"')
        schema_editor.execute(f'CREATE INDEX "{new}" ON "{_TABLE}" ("{column}")')


def forwards(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        for _column, index in _PATTERN:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{index}"')
        for _column, old, new in _UNIQUE:
            schema_editor.execute(f'ALTER TABLE "{_TABLE}" RENAME CONSTRAINT "{old}" TO "{new}"')
    for column, old, new in _INDEXES:
        _rename_index(schema_editor, column, old, new)


def backwards(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for column, old, new in _INDEXES:
        _rename_index(schema_editor, column, new, old)
    if postgresql:
        for _column, old, new in _UNIQUE:
            schema_editor.execute(f'ALTER TABLE "{_TABLE}" RENAME CONSTRAINT "{new}" TO "{old}"')
        for column, index in _PATTERN:
            schema_editor.execute(
                f'CREATE INDEX "{index}" ON "{_TABLE}" ("{column}" varchar_pattern_ops)'
            )


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_order_line_colour_names")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='order',
                    name='cart_token',
                    field=models.CharField(blank=True, max_length=64, verbose_name='cart'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='guest_token',
                    field=models.CharField(max_length=64, verbose_name='guest token'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='number',
                    field=models.CharField(max_length=20, verbose_name='order number'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='pickup_code',
                    field=models.CharField(blank=True, max_length=8, verbose_name='pick-up code'),
                ),
                migrations.AlterField(
                    model_name='order',
                    name='state',
                    field=models.CharField(choices=[('pending_payment', 'pending payment'), ('paid', 'paid'), ('allocated', 'allocated'), ('partially_shipped', 'partially shipped'), ('shipped', 'shipped'), ('ready_for_pickup', 'ready for pick-up'), ('delivered', 'delivered'), ('picked_up', 'picked up'), ('completed', 'completed'), ('cancelled', 'cancelled'), ('partly_refunded', 'partly refunded'), ('refunded', 'refunded'), ('returned', 'returned')], default='pending_payment', max_length=30, verbose_name='state'),
                ),
                migrations.AddIndex(
                    model_name='order',
                    index=models.Index(fields=['state'], name='order_state_idx'),
                ),
                migrations.AddIndex(
                    model_name='order',
                    index=models.Index(fields=['pickup_code'], name='order_pickup_code_idx'),
                ),
                migrations.AddIndex(
                    model_name='order',
                    index=models.Index(fields=['cart_token'], name='order_cart_token_idx'),
                ),
                migrations.AddConstraint(
                    model_name='order',
                    constraint=models.UniqueConstraint(fields=('number',), name='order_number_uniq'),
                ),
                migrations.AddConstraint(
                    model_name='order',
                    constraint=models.UniqueConstraint(fields=('guest_token',), name='order_guest_token_uniq'),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        )
    ]
