"""The backend matching the database engine: ``get_backend()``."""

from __future__ import annotations

from django.db import connection

from .base import SearchBackend

_backends: dict[str, SearchBackend] = {}


def get_backend() -> SearchBackend:
    vendor = connection.vendor
    backend = _backends.get(vendor)
    if backend is None:
        if vendor == "postgresql":
            from .postgres import PostgresBackend

            backend = PostgresBackend()
        elif vendor == "sqlite":
            from .sqlite import SqliteBackend

            backend = SqliteBackend()
        else:  # pragma: no cover - settings allow only these two
            raise RuntimeError(f"No search backend for database vendor {vendor!r}")
        _backends[vendor] = backend
    return backend


__all__ = ["SearchBackend", "get_backend"]
