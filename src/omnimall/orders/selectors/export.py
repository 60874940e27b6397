"""The back office's order export: one row of plain values per order, a chunk at a time.

The caller passes the queryset the order list shows (its filters, search, date drill-down
and the staff member's scope already applied); this reads only the exported columns from
it, in one statement whatever the number of orders, and never holds them all in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.db.models.fields.json import KT

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from omnimall.orders.models import Order

CHUNK_SIZE = 2000

# (CSV header, what to read). The store columns follow their foreign key in the same
# statement (a LEFT JOIN each); the address parts are read out of ``ship_to`` as text
# (``KT``), so neither the street nor the recipient's phone leaves the database.
EXPORT_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("number", "number"),
    ("placed_at", "placed_at"),
    ("state", "state"),
    ("channel", "channel_code"),
    ("delivery_method", "delivery_method"),
    ("pickup_store", "pickup_store__code"),
    ("credited_store", "credited_store__code"),
    ("credit_reason", "credit_reason"),
    ("province", KT("ship_to__province")),
    ("city", KT("ship_to__city")),
    ("district", KT("ship_to__district")),
    ("contact_name", "contact_name"),
    ("phone", "phone"),
    ("email", "email"),
    ("currency", "currency"),
    ("subtotal", "subtotal"),
    ("shipping", "shipping"),
    ("total", "total"),
    ("points_used", "points_used"),
    ("points_value", "points_value"),
    ("amount_paid", "amount_paid"),
    ("amount_refunded", "amount_refunded"),
    ("paid_at", "paid_at"),
    ("closed_at", "closed_at"),
    ("cancel_reason", "cancel_reason"),
    ("needs_attention", "needs_attention"),
)
EXPORT_HEADER: tuple[str, ...] = tuple(name for name, _read in EXPORT_COLUMNS)


def list_export_rows(
    *, orders: QuerySet[Order], chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[Any, ...]]:
    """The ``EXPORT_HEADER`` columns of ``orders``, in the queryset's order: text, Decimal,
    int, bool, aware datetimes, ``None`` for what is empty."""
    return orders.values_list(*(read for _name, read in EXPORT_COLUMNS)).iterator(
        chunk_size=chunk_size
    )
