"""Hand-written statements built from model metadata, for the hot paths.

Why: on a purchase (cart, checkout, payment notification, outbox delivery, allocation)
compiling a queryset cost more Python than the database took to run the statement
(``benchmarks/checkout_steps.py``). These helpers build a statement's text once per shape
(``functools.cache``), prepare values with the model's own fields (``get_db_prep_save``,
``pre_save``: defaults, ``auto_now``, JSON, dates) and build instances with the fields' own
converters, so what is written and read is exactly what the ORM would write and read.
Every statement is portable: PostgreSQL, and SQLite 3.35 or later (``RETURNING``).

Use them where a profile shows the ORM's compile time matters; everywhere else the ORM
is clearer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DatabaseError, connection
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def quote(name: str | None) -> str:
    return str(connection.ops.quote_name(str(name)))


def literal(value: str) -> str:
    """A constant of ours (a state's value) as an SQL string literal, for the few
    statements where PostgreSQL must see the value when it plans (a partial or skewed
    index). Never for a value that came from outside: those are bound."""
    if not value.replace("_", "").isalnum() or not value.isascii():
        raise ValueError(f"not a plain constant: {value!r}")
    return f"'{value}'"


def select_list(model: type[Model], alias: str = "") -> str:
    """Every concrete column of ``model`` (in field order), quoted, optionally ``alias.``."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quote(f.column) for f in model._meta.concrete_fields)


def instances(model: type[M], rows: Sequence[Sequence[Any]]) -> list[M]:
    """Model instances from rows of ``select_list(model)``, as the ORM would build them
    (the fields' own converters turn database values into Python ones)."""
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


def insert_ids(objects: Sequence[Model], *, or_nothing: bool = False) -> list[int]:
    """Insert unsaved ``objects`` of one model in one ``INSERT … RETURNING id``; the ids of
    the rows inserted, in insertion order. ``or_nothing``: a row that would break a unique
    constraint is skipped (``ON CONFLICT DO NOTHING``) instead of raising into the
    caller's transaction. The objects are not changed."""
    if not objects:
        return []
    model = type(objects[0])
    fields = _insert_fields(model)
    params = [
        f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objects for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor, model, len(objects), or_nothing), params)
        # Both databases number the rows of one INSERT in VALUES order.
        return sorted(row[0] for row in cursor.fetchall())


def insert(objects: Sequence[Model], *, or_nothing: bool = False) -> bool:
    """``bulk_create`` of unsaved ``objects`` (one model) in one statement, giving them their
    ids. With ``or_nothing`` a row that breaks a unique constraint is skipped: then the
    result is False and no object gets an id. Without it the result is always True."""
    ids = insert_ids(objects, or_nothing=or_nothing)
    if len(ids) != len(objects):
        return False
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return True


def update(obj: Model, fields: Sequence[str]) -> None:
    """``obj.save(update_fields=fields)`` as one UPDATE. ``auto_now`` fields named get the
    current time, as with ``save``; like ``save``, an UPDATE that matches no row is an error."""
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


# ``vendor`` is part of each cache key: quoting differs by database.


@functools.cache
def _insert_fields(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


@functools.cache
def _insert_sql(vendor: str, model: type[Model], rows: int, or_nothing: bool) -> str:
    fields = _insert_fields(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    conflict = " ON CONFLICT DO NOTHING" if or_nothing else ""
    return (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 (names from the model)
        f"({', '.join(quote(f.column) for f in fields)}) VALUES {', '.join([row] * rows)}"
        f"{conflict} RETURNING {quote(model._meta.pk.column)}"
    )


@functools.cache
def _update_sql(vendor: str, model: type[Model], fields: tuple[str, ...]) -> str:
    columns = [quote(model._meta.get_field(name).column) for name in fields]  # type: ignore[union-attr]
    return (
        f"UPDATE {quote(model._meta.db_table)} SET "  # noqa: S608 (names from the model)
        f"{', '.join(f'{column} = %s' for column in columns)} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )


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
