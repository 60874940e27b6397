"""Hand-written statements for the outbox's hot path (every order writes and delivers
messages): one statement each where the ORM would send several.

Built with ``core.sql`` (names from ``OutboxMessage._meta``, values prepared by the
model's own fields). Every statement works on PostgreSQL and on SQLite (3.35 or later:
``RETURNING``); only the row lock of the claim (``FOR UPDATE SKIP LOCKED``) is
PostgreSQL's alone.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from omnimall.core import sql
from omnimall.core.models import OutboxMessage, OutboxState, WebhookSubscription

_q = sql.quote


def insert_new(messages: Sequence[OutboxMessage]) -> list[int]:
    """Insert the messages whose dedupe key is not taken; the ids of those inserted.

    One ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` instead of a SELECT for the keys
    already there, the INSERT and a SELECT for the new ids: a key that exists (or that a
    concurrent writer takes first) is skipped by the unique index, never raising into the
    caller's transaction.
    """
    return sql.insert_ids(messages, or_nothing=True)


@functools.cache
def _claim_sql(vendor: str, with_ids: int, lock: bool) -> str:
    """``UPDATE … SET next_attempt_at = lease WHERE id IN (due candidates) RETURNING *``.

    Names come from the model, values are bound (hence the S608 exemptions), except the
    state, a constant of ours written into the text: with ``state = $1`` PostgreSQL's
    generic plan of the prepared statement cannot know that pending rows are few, so it
    re-planned the claim on every run (0.4 ms of planning per claim here, more than the
    claim itself; pg_stat_statements' ``plans`` equalled ``calls``)."""
    qn = _q
    table = qn(OutboxMessage._meta.db_table)
    pk = qn(OutboxMessage._meta.pk.column)
    state = qn(OutboxMessage._meta.get_field("state").column)
    next_at = qn(OutboxMessage._meta.get_field("next_attempt_at").column)
    columns = sql.select_list(OutboxMessage)
    pending = sql.literal(OutboxState.PENDING.value)
    due = f"{state} = {pending} AND ({next_at} IS NULL OR {next_at} <= %s)"
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
    at_db = field.get_db_prep_save(at, connection)
    lease_db = field.get_db_prep_save(lease_until, connection)
    chosen: list[object] = [at_db, *ids, size]
    params = [*chosen, lease_db, at_db] if lock else [lease_db, *chosen, at_db]
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(connection.vendor, len(ids), lock), params)
        rows = cursor.fetchall()
    messages = sql.instances(OutboxMessage, rows)
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


def active_subscriptions() -> list[WebhookSubscription]:
    """Active webhook subscriptions by id: ``filter(is_active=True).order_by("pk")`` by
    hand (hot path: every order event asks who listens, usually nobody)."""
    with connection.cursor() as cursor:
        cursor.execute(_subscriptions_sql(connection.vendor), [True])
        return sql.instances(WebhookSubscription, cursor.fetchall())


@functools.cache
def _subscriptions_sql(vendor: str) -> str:
    meta = WebhookSubscription._meta
    return (
        f"SELECT {sql.select_list(WebhookSubscription)} FROM {_q(meta.db_table)} "  # noqa: S608
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
