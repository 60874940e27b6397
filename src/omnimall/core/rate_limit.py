"""A brake on automation: calls counted per client in fixed windows, in the cache.

``take(scope, client, limit=, window=)`` counts one call by ``client`` (an address) in
``scope`` and answers 0 while the count stays within ``limit`` for the current window of
``window`` seconds, else the seconds until that window ends. Unlike ``core.throttle``
(which counts failures only), every call counts. The counters live in the default cache
(Redis in production, shared by every worker). With the cache unreachable nothing is
counted and every call passes: the brake is off while the shop keeps selling.
"""

from __future__ import annotations

import logging
import math
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def take(scope: str, client: str, *, limit: int, window: int) -> int:
    """0 if this call is within ``limit`` (or ``limit`` is 0: no brake), else the seconds
    to wait."""
    if limit <= 0 or not client:
        return 0
    now = time.time()
    slot = int(now // window)
    key = f"rate:{scope}:{client}:{slot}"
    try:
        if cache.add(key, 1, window):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # the window's key expired between add and incr
                cache.set(key, 1, window)
                count = 1
    except Exception:  # any backend's connection error
        logger.warning("cache unreachable: a %s call was not counted", scope)
        return 0
    if count <= limit:
        return 0
    return max(1, math.ceil((slot + 1) * window - now))
