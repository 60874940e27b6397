"""Django's Redis cache backend, keeping one redis-py client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache
call. redis-py's constructor is not cheap (it builds its table of reply callbacks): here
it cost 160 µs, more than the round trip to Redis it wraps (150 µs), on every page
fragment read, every version check and every worker wake-up (``core.wakeups``). A
``redis.Redis`` holds no connection of its own — it takes one from the pool for each
command and gives it back — so one per pool serves every call. (Django gives each thread
its own cache backend, so each thread keeps its own; redis-py's clients are safe to share
between threads anyway.)

**Redis down is a cache miss, not an outage.** Django's backend lets a connection error
through every ``cache.get``, so with Redis unreachable every page was a 500 although the
database (which holds everything the cache only copies) was fine. Here reads answer "not
cached" and writes are dropped; ``add`` and ``incr``, whose answers callers act on (the
worker's wake-ups, the sign-in brake), still raise so each caller decides. After a
failure the backend leaves Redis alone for ``PAUSE_SECONDS`` (every thread of the
process), so a Redis that does not answer costs one timeout per pause, not one per call;
one warning is logged per outage. Timeouts are short (settings.py ``OPTIONS``).

``CACHES["default"]["BACKEND"] = "omnimall.core.redis_cache.RedisCache"`` (settings.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import redis
from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT

logger = logging.getLogger(__name__)

PAUSE_SECONDS = 5.0
T = TypeVar("T")
# Server list -> monotonic time until which Redis is not tried (shared by every thread).
_paused_until: dict[str, float] = {}
_lock = threading.Lock()


class CacheUnavailable(redis.ConnectionError):
    """Redis failed a moment ago; not tried again until the pause is over."""


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # (not in stubs)
        client = self._clients.get(id(pool))
        if client is None:
            # Were two threads to share this backend and both get here first, each would
            # build a client on the same pool and one would be kept: either works.
            client = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            self._clients[id(pool)] = client
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._name = str(server)

    # --- the pause after a failure ---------------------------------------------------

    def _call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if _paused_until.get(self._name, 0.0) > time.monotonic():
            raise CacheUnavailable(f"{self._name}: paused after a failure")
        try:
            result = method(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            with _lock:
                was_up = _paused_until.get(self._name, 0.0) == 0.0
                _paused_until[self._name] = time.monotonic() + PAUSE_SECONDS
            if was_up:
                logger.warning("cache unreachable, serving without it: %s", error)
            raise
        if self._name in _paused_until:
            with _lock:
                if _paused_until.pop(self._name, None) is not None:
                    logger.warning("cache reachable again")
        return result

    def _soft(self, fallback: T, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return self._call(method, *args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError):
            return fallback

    # --- reads miss, writes are dropped -----------------------------------------------

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._soft(default, super().get, key, default, version)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._soft({}, super().get_many, keys, version)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._soft(False, super().has_key, key, version)

    def set(
        self,
        key: Any,
        value: Any,
        timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> None:
        self._soft(None, super().set, key, value, timeout, version)

    def set_many(
        self,
        data: dict[Any, Any],
        timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> list[Any]:
        return self._soft(list(data), super().set_many, data, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._soft(False, super().touch, key, timeout, version)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._soft(False, super().delete, key, version)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._soft(None, super().delete_many, keys, version)

    # --- answers a caller acts on: raise, through the same pause ----------------------

    def add(
        self,
        key: Any,
        value: Any,
        timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        return self._call(super().add, key, value, timeout, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._call(super().incr, key, delta, version)
