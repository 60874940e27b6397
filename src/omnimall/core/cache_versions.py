"""Versioned cache namespaces: cached values are keyed by a version that a write bumps.

The version lives in the database, so a bump made by one worker process is seen by every
other at its next request, whatever the cache backend (per-process memory or Redis).
Reading it costs one primary-key query per request, and it is read at most once per request.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from django.db import connection, transaction
from django.db.models import BigIntegerField, F, Value

from .models import CacheVersion

_REQUEST_ATTR = "_omnimall_cache_versions"
# Up to 2**32 per bump: 2**31 bumps before the 63-bit column is full.
_MAX_STEP = 2**32


def current_versions(namespaces: Sequence[str], request: object | None = None) -> dict[str, int]:
    """The versions of several namespaces in one query; memoised on ``request`` when given."""
    memo: dict[str, int] | None = getattr(request, _REQUEST_ATTR, None) if request else None
    missing = [ns for ns in namespaces if memo is None or ns not in memo]
    if missing:
        found = dict(
            CacheVersion.objects.filter(namespace__in=missing).values_list("namespace", "version")
        )
        fetched = {ns: found.get(ns, 0) for ns in missing}
        if request is None:
            return fetched
        if memo is None:
            memo = {}
            setattr(request, _REQUEST_ATTR, memo)
        memo.update(fetched)
    assert memo is not None  # noqa: S101 - set above whenever anything was missing
    return {ns: memo[ns] for ns in namespaces}


def current_version(namespace: str, request: object | None = None) -> int:
    """The namespace's version; memoised on ``request`` when one is given."""
    return current_versions((namespace,), request)[namespace]


def version_subquery_sql() -> str:
    """A scalar subquery for one namespace's version, its one parameter the namespace; NULL
    when it was never bumped (read it as 0, as ``current_versions`` does).

    For a hot read that needs a version along with its rows: selecting this as one more
    column takes the version in the same statement instead of a query of its own."""
    quote = connection.ops.quote_name
    field = {f.name: quote(str(f.column)) for f in CacheVersion._meta.concrete_fields}
    table = quote(CacheVersion._meta.db_table)
    # Names from the model; the namespace is bound.
    return f"(SELECT cv.{field['version']} FROM {table} cv WHERE cv.{field['namespace']} = %s)"  # noqa: S608


def bump_version(namespace: str) -> None:
    """Invalidate everything cached under ``namespace``; effective when the caller commits.

    The version moves on by a random step, not by 1: only the bumping transaction ever sees
    its new number before it commits, and may cache values under it; if that transaction
    rolls back, a step of 1 would hand the same number to the next real bump, which would
    then serve those values as current. A random step leaves a rolled-back number unused.
    """
    step = secrets.randbelow(_MAX_STEP) + 1
    with transaction.atomic():
        updated = CacheVersion.objects.filter(namespace=namespace).update(
            # A 64-bit parameter: a bare int would be bound as a 32-bit one on PostgreSQL.
            version=F("version") + Value(step, output_field=BigIntegerField())
        )
        if not updated:
            CacheVersion.objects.get_or_create(namespace=namespace, defaults={"version": 1 + step})
