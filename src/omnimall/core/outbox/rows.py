"""Hand-written statements for the outbox's hot path (every order writes and delivers
messages): one statement each where the ORM would send several.

Table and column names come from ``OutboxMessage._meta``; values are prepared by the
model's own fields (``get_db_prep_save``), so JSON, dates and defaults are stored exactly
as the ORM stores them. Both statements work on PostgreSQL and on SQLite (3.35 or later:
``RETURNING``); only the row lock of the claim (``FOR UPDATE SKIP LOCKED``) is
PostgreSQL's alone.

``select_list`` and ``instances`` are also what the other hand-written hot reads use
(orders' and payments' row locks): the same model instances the ORM would build, without
compiling a queryset per request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db import DatabaseError, connection
from django.db.models import Field, Model

from omnimall.core.models import OutboxMessage, OutboxState, WebhookSubscription

M = TypeVar("M", bound=Model)


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
    columns = select_list(OutboxMessage)
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
    messages = instances(OutboxMessage, rows)
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


def insert(model: type[M], objs: Sequence[M]) -> None:
    """Insert ``objs`` (unsaved, one model) in one ``INSERT … RETURNING id``; sets their pks.

    What ``bulk_create`` does, without compiling the statement each time (hot paths: the
    notification log, order timeline events). Field defaults and ``auto_now_add`` apply.
    """
    if not objs:
        return
    fields = _insert_fields_of(model)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(_model_insert_sql(connection.vendor, model, len(objs)), params)
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) != len(objs):  # pragma: no cover - a plain INSERT returns every row
        raise RuntimeError("insert returned fewer ids than rows")
    for obj, pk in zip(objs, sorted(ids), strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


@functools.cache
def _insert_fields_of(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


@functools.cache
def _model_insert_sql(vendor: str, model: type[Model], count: int) -> str:
    fields = _insert_fields_of(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (
        f"INSERT INTO {_q(model._meta.db_table)} "  # noqa: S608
        f"({', '.join(_q(f.column) for f in fields)}) VALUES {', '.join([row] * count)} "
        f"RETURNING {_q(model._meta.pk.column)}"
    )


def active_subscriptions() -> list[WebhookSubscription]:
    """Active webhook subscriptions by id: ``filter(is_active=True).order_by("pk")`` by
    hand (hot path: every order event asks who listens, usually nobody)."""
    with connection.cursor() as cursor:
        cursor.execute(_subscriptions_sql(connection.vendor), [True])
        return instances(WebhookSubscription, cursor.fetchall())


@functools.cache
def _subscriptions_sql(vendor: str) -> str:
    meta = WebhookSubscription._meta
    return (
        f"SELECT {select_list(WebhookSubscription)} FROM {_q(meta.db_table)} "  # noqa: S608
        f"WHERE {_q(meta.get_field('is_active').column)} = %s ORDER BY {_q(meta.pk.column)}"
    )


def finish(message: OutboxMessage, **values: Any) -> int:
    """Set ``values`` on ``message`` only if it is still pending under this worker's lease
    (``next_attempt_at`` as claimed); how many rows changed (0 or 1). The statement of
    ``filter(pk=…, state=pending, next_attempt_at=lease).update(**values)``, by hand."""
    names = tuple(sorted(values))
    fields = [OutboxMessage._meta.get_field(name) for name in names]
    lease = OutboxMessage._meta.get_field("next_attempt_at")
    params = [
        f.get_db_prep_save(values[f.name], connection)  # type: ignore[union-attr]
        for f in fields
    ]
    leased = message.next_attempt_at is not None
    params += [message.pk, OutboxState.PENDING.value]
    if leased:
        params.append(lease.get_db_prep_save(message.next_attempt_at, connection))
    with connection.cursor() as cursor:
        cursor.execute(_finish_sql(connection.vendor, names, leased), params)
        return int(cursor.rowcount)


@functools.cache
def _finish_sql(vendor: str, names: tuple[str, ...], leased: bool) -> str:
    meta = OutboxMessage._meta

    def col(name: str) -> str:
        return _q(meta.get_field(name).column)  # type: ignore[union-attr]

    return (
        f"UPDATE {_q(meta.db_table)} SET "  # noqa: S608
        f"{', '.join(f'{col(name)} = %s' for name in names)} "
        f"WHERE {_q(meta.pk.column)} = %s AND {col('state')} = %s "
        f"AND {col('next_attempt_at')} {'= %s' if leased else 'IS NULL'}"
    )


def update(obj: Model, fields: Sequence[str]) -> None:
    """``obj.save(update_fields=fields)`` as one hand-written UPDATE (hot paths: an order's
    state, an outbox message's outcome). ``auto_now`` fields named get the current time,
    as with ``save``; like ``save``, an UPDATE that matches no row is an error."""
    model = type(obj)
    chosen = [model._meta.get_field(name) for name in fields]
    params = [
        f.get_db_prep_save(f.pre_save(obj, False), connection)  # type: ignore[union-attr]
        for f in chosen
    ]
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(connection.vendor, model, tuple(fields)), [*params, obj.pk])
        if cursor.rowcount == 0:
            raise DatabaseError("Save with update_fields did not affect any rows.")


@functools.cache
def _update_sql(vendor: str, model: type[Model], fields: tuple[str, ...]) -> str:
    columns = [_q(model._meta.get_field(name).column) for name in fields]  # type: ignore[union-attr]
    return (
        f"UPDATE {_q(model._meta.db_table)} SET "  # noqa: S608
        f"{', '.join(f'{column} = %s' for column in columns)} "
        f"WHERE {_q(model._meta.pk.column)} = %s"
    )


def select_list(model: type[Model], alias: str = "") -> str:
    """Every concrete column of ``model`` (in field order), quoted, optionally ``alias.``."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + _q(f.column) for f in model._meta.concrete_fields)


def instances(model: type[M], rows: Sequence[Sequence[Any]]) -> list[M]:
    """Model instances from rows of ``select_list(model)``, as the ORM would build them.

    Shared by the hand-written hot-path reads (outbox claims, order and payment locks):
    the fields' own converters turn database values into Python ones.
    """
    names = _attnames(model)
    converters = _converters(connection.vendor, model)
    return [
        model.from_db(
            connection.alias,
            names,
            [
                convert(value) if convert is not None else value
                for convert, value in zip(converters, row, strict=True)
            ],
        )
        for row in rows
    ]


@functools.cache
def _attnames(model: type[Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


@functools.cache
def _converters(vendor: str, model: type[Model]) -> list[Callable[[object], object] | None]:
    """Per column, a function turning the database value into the Python one (or None)."""
    result: list[Callable[[object], object] | None] = []
    for field in model._meta.concrete_fields:
        expression = field.get_col(model._meta.db_table)
        funcs = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        result.append(functools.partial(_apply, funcs, expression) if funcs else None)
    return result


def _apply(funcs: list[Any], expression: object, value: object) -> object:
    for func in funcs:
        value = func(value, expression, connection)
    return value
