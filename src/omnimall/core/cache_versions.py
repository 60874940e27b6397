"""Versioned cache namespaces: cached values are keyed by a version that a write bumps.

The version lives in the database, so a bump made by one worker process is seen by every
other at its next request, whatever the cache backend (per-process memory or Redis).
Reading it costs one primary-key query per request, and it is read at most once per request.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from .models import CacheVersion

_REQUEST_ATTR = "_omnimall_cache_versions"


def current_version(namespace: str, request: object | None = None) -> int:
    """The namespace's version; memoised on ``request`` when one is given."""
    memo: dict[str, int] | None = getattr(request, _REQUEST_ATTR, None) if request else None
    if memo is not None and namespace in memo:
        return memo[namespace]
    version = (
        CacheVersion.objects.filter(namespace=namespace).values_list("version", flat=True).first()
    ) or 0
    if request is not None:
        if memo is None:
            memo = {}
            setattr(request, _REQUEST_ATTR, memo)
        memo[namespace] = version
    return version


def bump_version(namespace: str) -> None:
    """Invalidate everything cached under ``namespace``; effective when the caller commits."""
    with transaction.atomic():
        updated = CacheVersion.objects.filter(namespace=namespace).update(version=F("version") + 1)
        if not updated:
            CacheVersion.objects.get_or_create(namespace=namespace, defaults={"version": 2})
