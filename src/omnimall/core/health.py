"""What monitoring asks beyond "is the database up" (``/healthz?full=1``).

The load balancer's probe stays the one query of ``/healthz``. Monitoring (polled every
minute or so) also wants to know what degrades the shop without stopping it:

* ``cache``: ``up`` (Redis answers), ``down`` (it does not: pages come from the database,
  the guessing brakes count nothing; ``core.redis_cache``), or ``local`` (no Redis
  configured: each process its own memory cache);
* ``outbox``: messages pending and dead, and how long the oldest *due* message has
  waited since it came due (written, or its retry time passed). With the worker (or its
  scheduler) stopped, emails, webhooks, gateway notifications and allocations stop too,
  and that age grows.

``status`` is ``degraded`` when the cache is down or the oldest due message has waited
longer than ``STALE_OUTBOX_SECONDS``; the answer is still 200: the shop is selling.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.db.models import Min, Q
from django.db.models.functions import Coalesce

from omnimall.core import clock
from omnimall.core.models import OutboxMessage, OutboxState
from omnimall.core.outbox.counts import outbox_counts
from omnimall.core.redis_cache import RedisCache

# The periodic delivery runs every 10 s and a woken one at once: 5 minutes of a due
# message waiting means no worker is delivering.
STALE_OUTBOX_SECONDS = 5 * 60
PROBE_KEY = "healthz:probe"


def cache_state() -> str:
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return "local"
    try:
        # ``add`` reaches Redis or raises (reads are soft: a miss says nothing).
        backend.add(PROBE_KEY, 1, 5)
    except Exception:  # any backend's connection error
        return "down"
    return "up"


def outbox_backlog() -> dict[str, Any]:
    counts = outbox_counts()
    now = clock.now()
    # Due since its retry time, or since it was written when never tried: a message
    # retried for hours that just came due again has not waited hours.
    oldest = OutboxMessage.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), state=OutboxState.PENDING
    ).aggregate(since=Min(Coalesce("next_attempt_at", "created_at")))["since"]
    return {
        "pending": counts.pending,
        "dead": counts.dead,
        "oldest_due_seconds": round((now - oldest).total_seconds()) if oldest else 0,
    }


def details() -> dict[str, Any]:
    """The cache and outbox part of ``/healthz?full=1`` with the overall ``status``."""
    cache_now = cache_state()
    outbox = outbox_backlog()
    degraded = cache_now == "down" or outbox["oldest_due_seconds"] > STALE_OUTBOX_SECONDS
    return {"status": "degraded" if degraded else "ok", "cache": cache_now, "outbox": outbox}
