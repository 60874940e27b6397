"""The Redis cache as production runs it (``OMNIMALL_REDIS_URL``): Django's backend with one
redis-py client per connection pool instead of one per call."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.core.cache import cache, caches
from django.test import override_settings

from omnimall.core import redis_cache as redis_cache_module
from omnimall.core import wakeups

REDIS_URL = os.environ.get("OMNIMALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
def redis_cache() -> Iterator[None]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("OMNIMALL_TEST_REQUIRE_ALL") == "1":
            pytest.fail(f"Redis at {REDIS_URL} does not answer ({error})")
        pytest.skip(f"Redis at {REDIS_URL} does not answer")
    backend = {
        "BACKEND": "omnimall.core.redis_cache.RedisCache",
        "LOCATION": REDIS_URL,
        # Both test passes (SQLite, PostgreSQL) run at once against the same Redis.
        "KEY_PREFIX": uuid.uuid4().hex,
    }
    with override_settings(CACHES={"default": backend}):
        yield
        cache.clear()


def test_reads_and_writes_go_to_redis(redis_cache):
    assert cache.add("basket", {"sku": "A-1", "units": 2}, 30) is True
    assert cache.add("basket", "other", 30) is False  # SET NX: the first value stays
    assert cache.get("basket") == {"sku": "A-1", "units": 2}
    cache.set("views", 1, 30)
    assert cache.incr("views") == 2
    cache.delete("basket")
    assert cache.get("basket", "gone") == "gone"


def test_calls_reuse_one_client_and_threads_work_side_by_side(redis_cache):
    backend = caches["default"]._cache  # type: ignore[attr-defined]
    assert backend.get_client() is backend.get_client(write=True)  # one server, one pool
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:  # each thread has its own backend (Django's caches are per thread)
            for turn in range(30):
                key = f"t{index}:{turn}"
                assert cache.add(key, turn, 30)
                assert cache.get(key) == turn
            mine = caches["default"]._cache  # type: ignore[attr-defined]
            assert mine.get_client() is mine.get_client(write=True)
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert cache.get_many([f"t{i}:29" for i in range(8)]) == {f"t{i}:29": 29 for i in range(8)}


def test_worker_wake_ups_coalesce_through_redis(redis_cache, published_tasks):
    wakeups.wake("core.deliver_outbox")
    wakeups.wake("core.deliver_outbox")  # the first one still waits: nothing published
    wakeups.woken("core.deliver_outbox")  # the task starts
    wakeups.wake("core.deliver_outbox")

    assert published_tasks == [("core.deliver_outbox", None), ("core.deliver_outbox", None)]


# --- Redis down: a cache miss, not an outage ------------------------------------------

DOWN_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


@pytest.fixture
def redis_down() -> Iterator[None]:
    redis_cache_module._paused_until.clear()
    backend = {
        "BACKEND": "omnimall.core.redis_cache.RedisCache",
        "LOCATION": DOWN_URL,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
    }
    with override_settings(CACHES={"default": backend}):
        yield
    redis_cache_module._paused_until.clear()


def test_with_redis_down_reads_miss_and_writes_are_dropped(redis_down):
    assert cache.get("basket", "miss") == "miss"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("basket") is False
    cache.set("basket", 1, 30)
    cache.delete("basket")
    with pytest.raises(redis.ConnectionError):
        cache.add("wake", 1, 30)  # its caller decides (wake-ups publish anyway)


def test_after_a_failure_redis_is_left_alone_for_a_pause(redis_down, monkeypatch, caplog):
    cache.get("first")  # fails, and starts the pause
    calls: list[str] = []
    client = caches["default"]._cache  # type: ignore[attr-defined]
    monkeypatch.setattr(client, "get", lambda *args, **kwargs: calls.append("get"))

    for _ in range(5):
        assert cache.get("again") is None

    assert calls == []
    warnings = [r for r in caplog.records if "cache unreachable" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.django_db
def test_the_shop_answers_with_redis_down(redis_down, client, published_tasks):
    from tests.catalog.factories import make_category, make_product

    product = make_product(category=make_category("shirts"))
    home = client.get("/")
    listing = client.get("/api/v1/products")
    detail = client.get(f"/api/v1/products/{product.slug}")
    wrong = client.post("/account/login/", {"username": "a@example.com", "password": "nope"})
    cart = client.post("/api/v1/carts", data={}, content_type="application/json")

    assert home.status_code == 200
    assert listing.status_code == 200
    assert detail.status_code == 200
    assert wrong.status_code == 200  # the form says the sign-in failed
    assert cart.status_code == 201


def test_redis_back_ends_the_pause(redis_cache, caplog):
    name = caches["default"]._name  # type: ignore[attr-defined]
    redis_cache_module._paused_until[name] = 1.0  # a pause that is over

    cache.set("k", "v", 30)

    assert cache.get("k") == "v"
    assert name not in redis_cache_module._paused_until
    assert any("reachable again" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_healthz_full_tells_monitoring_whether_redis_answers(redis_cache, client):
    body = client.get("/healthz?full=1").json()

    assert (body["status"], body["cache"]) == ("ok", "up")


@pytest.mark.django_db
def test_healthz_full_says_the_shop_is_degraded_with_redis_down(redis_down, client):
    reply = client.get("/healthz?full=1")

    assert reply.status_code == 200  # still selling
    assert (reply.json()["status"], reply.json()["cache"]) == ("degraded", "down")
