"""A small brake on password guessing: failed sign-ins counted in the cache.

After ``LIMIT`` failures for one email address, or from one client address, within
``WINDOW_SECONDS``, sign-in is refused with one generic message before the password is
even checked. The counters live in the default cache (Redis in production, so every
worker shares them; local memory in the demo).
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.http import HttpRequest

LIMIT = 10
WINDOW_SECONDS = 15 * 60


def _keys(request: HttpRequest, email: str) -> list[str]:
    digest = hashlib.blake2b(email.strip().lower()[:200].encode(), digest_size=12).hexdigest()
    client = str(request.META.get("REMOTE_ADDR") or "unknown")
    return [f"login-fail:ip:{client}", f"login-fail:email:{digest}"]


def is_throttled(request: HttpRequest, email: str) -> bool:
    counts = cache.get_many(_keys(request, email))
    return any(count >= LIMIT for count in counts.values())


def count_failure(request: HttpRequest, email: str) -> None:
    for key in _keys(request, email):
        if cache.add(key, 1, WINDOW_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, WINDOW_SECONDS)
