"""Hand-written statements for the outbox's hot path (every order writes and delivers
messages): one statement each where the ORM would send several.

Table and column names come from ``OutboxMessage._meta``; values are prepared by the
model's own fields (``get_db_prep_save``), so JSON, dates and defaults are stored exactly
as the ORM stores them. Both statements work on PostgreSQL and on SQLite (3.35 or later:
``RETURNING``); only the row lock of the claim (``FOR UPDATE SKIP LOCKED``) is
PostgreSQL's alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field

from omnimall.core.models import OutboxMessage, OutboxState, WebhookSubscription


def _q(name: str | None) -> str:
    return str(connection.ops.quote_name(str(name)))


@functools.cache
def _insert_fields() -> tuple[Field[object, object], ...]:
    return tuple(f for f in OutboxMessage._meta.concrete_fields if not f.primary_key)


@functools.cache
def _insert_sql(vendor: str, rows: int) -> str:
    qn = _q
    fields = _insert_fields()
    columns = ", ".join(qn(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (
        f"INSERT INTO {qn(OutboxMessage._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT DO NOTHING RETURNING {qn(OutboxMessage._meta.pk.column)}"
    )


def insert_new(messages: Sequence[OutboxMessage]) -> list[int]:
    """Insert the messages whose dedupe key is not taken; the ids of those inserted.

    One ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` instead of a SELECT for the keys
    already there, the INSERT and a SELECT for the new ids: a key that exists (or that a
    concurrent writer takes first) is skipped by the unique index, never raising into the
    caller's transaction.
    """
    if not messages:
        return []
    fields = _insert_fields()
    params = [
        field.get_db_prep_save(field.pre_save(message, True), connection)
        for message in messages
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor, len(messages)), params)
        return [row[0] for row in cursor.fetchall()]


@functools.cache
def _claim_sql(vendor: str, with_ids: int, lock: bool) -> str:
    """``UPDATE … SET next_attempt_at = lease WHERE id IN (due candidates) RETURNING *``.

    Names come from the model, values are bound (hence the S608 exemptions)."""
    qn = _q
    table = qn(OutboxMessage._meta.db_table)
    pk = qn(OutboxMessage._meta.pk.column)
    state = qn(OutboxMessage._meta.get_field("state").column)
    next_at = qn(OutboxMessage._meta.get_field("next_attempt_at").column)
    columns = ", ".join(qn(f.column) for f in OutboxMessage._meta.concrete_fields)
    due = f"{state} = %s AND ({next_at} IS NULL OR {next_at} <= %s)"
    only = f" AND {pk} IN ({', '.join(['%s'] * with_ids)})" if with_ids else ""
    candidates = f"SELECT {pk} FROM {table} WHERE {due}{only} ORDER BY {pk} LIMIT %s"  # noqa: S608
    if lock:  # PostgreSQL: lock the candidates once (a materialised CTE), skip taken ones
        return (
            f"WITH claimed AS MATERIALIZED ({candidates} FOR UPDATE SKIP LOCKED) "  # noqa: S608
            f"UPDATE {table} SET {next_at} = %s "
            f"WHERE {pk} IN (SELECT {pk} FROM claimed) AND {due} RETURNING {columns}"
        )
    return (
        f"UPDATE {table} SET {next_at} = %s WHERE {pk} IN ({candidates}) AND {due} "  # noqa: S608
        f"RETURNING {columns}"
    )


def claim(
    *, at: datetime, lease_until: datetime, size: int, message_ids: Sequence[int] | None
) -> list[OutboxMessage]:
    """Move up to ``size`` due messages (lowest id first) to ``lease_until`` and return them,
    in one statement (see ``delivery.claim_due``). The outer condition repeats the due
    test, so on SQLite (no row locks) a message another worker claimed meanwhile is not
    taken twice; on PostgreSQL the candidates are locked ``FOR UPDATE SKIP LOCKED``."""
    ids = list(dict.fromkeys(int(pk) for pk in message_ids)) if message_ids is not None else []
    if message_ids is not None and not ids:
        return []
    lock = connection.features.has_select_for_update_skip_locked
    field = OutboxMessage._meta.get_field("next_attempt_at")
    pending = OutboxState.PENDING.value
    at_db = field.get_db_prep_save(at, connection)
    lease_db = field.get_db_prep_save(lease_until, connection)
    chosen: list[object] = [pending, at_db, *ids, size]
    params = [*chosen, lease_db, pending, at_db] if lock else [lease_db, *chosen, pending, at_db]
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(connection.vendor, len(ids), lock), params)
        rows = cursor.fetchall()
    names = [f.attname for f in OutboxMessage._meta.concrete_fields]
    converters = _converters(connection.vendor)
    messages = []
    for row in rows:
        values = [
            convert(value) if convert is not None else value
            for convert, value in zip(converters, row, strict=True)
        ]
        messages.append(OutboxMessage.from_db(connection.alias, names, values))
    messages.sort(key=lambda m: m.pk)
    _attach_subscriptions(messages)
    return messages


def _attach_subscriptions(messages: list[OutboxMessage]) -> None:
    """Each webhook's subscription, in one query for the chunk (none for emails)."""
    wanted = {m.subscription_id for m in messages if m.subscription_id is not None}
    found = {s.pk: s for s in WebhookSubscription.objects.filter(pk__in=wanted)} if wanted else {}
    for message in messages:
        if message.subscription_id is not None:
            message.subscription = found.get(message.subscription_id)


@functools.cache
def _converters(vendor: str) -> list[Callable[[object], object] | None]:
    """Per column, a function turning the database value into the Python one (or None)."""
    result: list[Callable[[object], object] | None] = []
    for field in OutboxMessage._meta.concrete_fields:
        expression = field.get_col(OutboxMessage._meta.db_table)
        funcs = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        if funcs:
            result.append(functools.partial(_apply, funcs, expression))
        else:
            result.append(None)
    return result


def _apply(funcs: list[Any], expression: object, value: object) -> object:
    for func in funcs:
        value = func(value, expression, connection)
    return value
