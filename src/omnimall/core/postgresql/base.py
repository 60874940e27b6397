"""Django's PostgreSQL backend (psycopg 3) with a cheaper connection health check.

With ``CONN_HEALTH_CHECKS`` Django asks ``SELECT 1`` of a persistent connection at the
start of every request (and every worker task) that uses the database: one round trip
more per request, about one statement in ten on the checkout path
(docs/benchmarks.md). Here the check first looks at the socket instead. PostgreSQL sends
nothing on an idle connection unless it is going away (a restart, a failover, an admin's
``pg_terminate_backend``, ``idle_session_timeout``: each sends an error and closes), so
an idle socket with nothing to read is taken as healthy, and only a socket with
something waiting, or a connection psycopg already knows is broken, gets Django's own
check. What no look at the socket can see (a peer gone without closing) fails the
request that meets it, and Django then replaces the connection, as without health checks.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        if readable:  # the server said something while idle: ask it properly
            return bool(super().is_usable())
        return True
