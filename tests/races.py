"""Race plumbing shared by the concurrency tests: threads released together, each on its
own connection, and (on SQLite) a file copy of the test database so writers queue.

SQLite's default test database is a shared-cache in-memory file, where concurrent writers
get "database table is locked" at once instead of waiting; ``race_database`` (a fixture in
``tests/conftest.py``) copies it into a real file for the test and points the test's
connections at it, with the production settings (WAL, ``BEGIN IMMEDIATE``, a 10 s busy
timeout).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections

T = TypeVar("T")


@contextmanager
def database_on_file(tmp_path: Path) -> Iterator[None]:
    """On SQLite: the connections inside use a file copy of the test database."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    original = connections[DEFAULT_DB_ALIAS]
    original.ensure_connection()
    path = tmp_path / "race.sqlite3"
    target = sqlite3.connect(path)
    original.connection.backup(target)  # schema and migration data, as the suite sees them
    # In WAL already, as a served database is after its first connection: threads that
    # connect at once would otherwise race to switch it (the switch takes the file
    # exclusively and can fail with "database is locked" before any busy timeout applies).
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    on_file = type(original)({**original.settings_dict, "NAME": str(path)}, DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = on_file
    assert not connection.is_in_memory_db()
    try:
        yield
    finally:
        on_file.close()
        # The in-memory database lives as long as this connection: never close it here.
        connections[DEFAULT_DB_ALIAS] = original


def run_together(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` in ``count`` threads released at the same instant; return results.

    Each thread opens its own connection with the test thread's settings (so on SQLite it
    reaches the same file) and closes it when done. Exceptions escape and fail the test.
    """
    settings_dict = connection.settings_dict
    wrapper = type(connections[DEFAULT_DB_ALIAS])
    barrier = threading.Barrier(count)

    def run(i: int) -> T:
        connections[DEFAULT_DB_ALIAS] = wrapper(settings_dict, DEFAULT_DB_ALIAS)
        try:
            barrier.wait(timeout=30)
            return work(i)
        finally:
            connections[DEFAULT_DB_ALIAS].close()
            del connections[DEFAULT_DB_ALIAS]

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))
