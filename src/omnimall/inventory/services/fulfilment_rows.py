"""Hand-written statements of fulfilment requests (hot path: every paid order's allocation
writes one request and checks its holds), beside the rules in ``fulfilment``.

Names come from the models' ``_meta``, values are bound (hence the S608 exemptions). The
reservation check works on PostgreSQL and SQLite alike; the request's ``FR-<id>`` number is
written in the same statement as the row on PostgreSQL only (elsewhere the ORM inserts and
numbers it just after).
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.db import connection

from omnimall.inventory.models import FulfilmentLine, FulfilmentRequest, Reservation, StockLevel

# state, quantity, location_id, sku_id, whether a fulfilment line already uses it
HeldReservation = tuple[str, int, int, int, bool]


def held_reservations(*, reservation_ids: list[int]) -> dict[int, HeldReservation]:
    """What ``create_fulfilment_request`` checks of each reservation, in one query.

    Hand-written (hot path: every paid order's allocation): one plain statement instead of
    a query per line for the reservation and another for the line it may already serve.
    """
    if not reservation_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_reservations_sql(connection.vendor, len(reservation_ids)), reservation_ids)
        return {
            int(pk): (state, int(quantity), int(location_id), int(sku_id), bool(used))
            for pk, state, quantity, location_id, sku_id, used in cursor.fetchall()
        }


@functools.cache
def _reservations_sql(vendor: str, count: int) -> str:
    qn = connection.ops.quote_name
    res, level, line = Reservation._meta, StockLevel._meta, FulfilmentLine._meta

    def col(meta: Any, name: str) -> str:
        return qn(str(meta.get_field(name).column))

    return (
        f"SELECT r.{col(res, 'id')}, r.{col(res, 'state')}, r.{col(res, 'quantity')}, "  # noqa: S608
        f"l.{col(level, 'location')}, l.{col(level, 'sku')}, "
        f"EXISTS (SELECT 1 FROM {qn(line.db_table)} f "
        f"WHERE f.{col(line, 'reservation')} = r.{col(res, 'id')}) "
        f"FROM {qn(res.db_table)} r "
        f"INNER JOIN {qn(level.db_table)} l ON l.{col(level, 'id')} = r.{col(res, 'level')} "
        f"WHERE r.{col(res, 'id')} IN ({', '.join(['%s'] * count)})"
    )


def _number(pk: int) -> str:
    return f"FR-{pk:06d}"


def insert_request(**values: Any) -> FulfilmentRequest:
    """Insert a request whose number is ``FR-<id>``.

    On PostgreSQL one statement takes the id from the table's sequence and writes the
    number with it (hot path: every paid order); elsewhere a placeholder number unique to
    this insert is replaced by ``FR-<id>`` just after.
    """
    if connection.vendor != "postgresql":
        request = FulfilmentRequest.objects.create(number=f"tmp-{uuid.uuid4().hex[:20]}", **values)
        request.number = _number(request.pk)
        request.save(update_fields=["number"])
        return request
    request = FulfilmentRequest(number="", **values)
    fields = _request_fields()
    params = [field.get_db_prep_save(field.pre_save(request, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_request_sql(), params)
        pk, number = cursor.fetchone()
    request.pk, request.number = int(pk), str(number)
    request._state.adding = False
    request._state.db = connection.alias
    return request


@functools.cache
def _request_fields() -> tuple[Any, ...]:
    return tuple(
        f
        for f in FulfilmentRequest._meta.concrete_fields
        if not f.primary_key and f.name != "number"
    )


@functools.cache
def _request_sql() -> str:
    """PostgreSQL: ``FR-`` and the new id, zero-padded to at least 6 digits (``_number``)."""
    qn = connection.ops.quote_name
    meta = FulfilmentRequest._meta
    table, pk = meta.db_table, str(meta.pk.column)
    columns = ", ".join(qn(str(f.column)) for f in _request_fields())
    values = ", ".join(["%s"] * len(_request_fields()))
    return (
        f"WITH n AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('{table}', '{pk}')) "  # noqa: S608
        "AS id) "
        f"INSERT INTO {qn(table)} ({qn(pk)}, {qn(str(meta.get_field('number').column))}, "
        f"{columns}) "
        f"SELECT n.id, 'FR-' || CASE WHEN n.id < 1000000 THEN lpad(n.id::text, 6, '0') "
        f"ELSE n.id::text END, {values} FROM n "
        f"RETURNING {qn(pk)}, {qn(str(meta.get_field('number').column))}"
    )
