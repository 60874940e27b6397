"""A small brake on guessing: failed attempts counted in the cache.

After ``LIMIT`` failures for one subject (the email address signed in with, the order
number looked up), or from one client address, within ``WINDOW_SECONDS``, the attempt is
refused with one generic message before the secret is even checked. Each ``scope``
(``login``, ``order-lookup``) counts apart. The counters live in the default cache
(Redis in production, so every worker shares them; local memory in the demo).
"""

from __future__ import annotations

import hashlib
import logging

from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)

LIMIT = 10
WINDOW_SECONDS = 15 * 60


def client_of(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _keys(client: str, subject: str, scope: str) -> list[str]:
    digest = hashlib.blake2b(subject.strip().lower()[:200].encode(), digest_size=12).hexdigest()
    return [f"{scope}-fail:ip:{client}", f"{scope}-fail:subject:{digest}"]


def is_throttled(client: str, subject: str, *, scope: str) -> bool:
    counts = cache.get_many(_keys(client, subject, scope))
    return any(count >= LIMIT for count in counts.values())


def count_failure(client: str, subject: str, *, scope: str) -> None:
    """Count one failed attempt. With the cache unreachable nothing is counted (and
    ``is_throttled`` finds no count): the brake is off while the shop keeps answering."""
    try:
        for key in _keys(client, subject, scope):
            if cache.add(key, 1, WINDOW_SECONDS):
                continue
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, WINDOW_SECONDS)
    except Exception:  # any backend's connection error
        logger.warning("cache unreachable: a failed %s attempt was not counted", scope)
