"""Exports of orders out of the back office, on the audit trail.

An export takes shoppers' personal data away in bulk (PIPL): who took how many orders,
and with which filters, must be answerable later.
"""

from __future__ import annotations

from django.db import transaction

from omnimall.core import audit
from omnimall.core.actors import Actor


@transaction.atomic(durable=True)
def record_order_export(*, actor: Actor, orders: int, query: str) -> None:
    """Note that ``actor`` exported ``orders`` orders from the list filtered by ``query``
    (the list's query string: filters, search, date drill-down, ordering)."""
    audit.record(actor=actor, action="orders.exported", changes={"orders": orders, "query": query})
