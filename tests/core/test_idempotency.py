"""``core.idempotency.run_once``: performed once, replayed verbatim, reuse refused."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from omnimall.core import idempotency
from omnimall.core.errors import ValidationFailedError
from omnimall.core.models import IdempotencyKey


class Counter:
    """A fake effect: counts how often it was performed."""

    def __init__(self, status: int = 201, body: dict | None = None) -> None:
        self.calls = 0
        self.status = status
        self.body = body if body is not None else {"id": 7}

    def __call__(self) -> tuple[int, dict]:
        self.calls += 1
        return self.status, self.body


@pytest.mark.django_db
def test_run_once_performs_and_stores_the_result_when_key_is_new():
    perform = Counter()

    outcome = idempotency.run_once(scope="s", key="k1", payload={"a": 1}, perform=perform)

    assert (outcome.status, outcome.body, outcome.replayed) == (201, {"id": 7}, False)
    assert perform.calls == 1
    stored = IdempotencyKey.objects.get(scope="s", key="k1")
    assert (stored.response_status, stored.response_body) == (201, {"id": 7})


@pytest.mark.django_db
def test_run_once_replays_the_first_result_and_performs_nothing_when_key_repeats():
    first = Counter(body={"id": 1})
    again = Counter(status=200, body={"id": 2})
    idempotency.run_once(scope="s", key="k", payload={"b": 2, "a": 1}, perform=first)

    outcome = idempotency.run_once(scope="s", key="k", payload={"a": 1, "b": 2}, perform=again)

    assert (outcome.status, outcome.body, outcome.replayed) == (201, {"id": 1}, True)
    assert again.calls == 0
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_run_once_returns_json_the_first_time_exactly_as_a_replay_would():
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    body = {"at": when, "amount": Decimal("1.50")}

    first = idempotency.run_once(scope="s", key="k", payload={}, perform=Counter(body=body))
    replay = idempotency.run_once(scope="s", key="k", payload={}, perform=Counter())

    assert first.body == replay.body == {"at": "2026-01-02T03:04:05Z", "amount": "1.50"}


@pytest.mark.django_db
def test_run_once_refuses_with_409_when_key_is_reused_with_another_payload():
    idempotency.run_once(scope="s", key="k", payload={"count": 5}, perform=Counter())
    perform = Counter()

    with pytest.raises(idempotency.IdempotencyKeyReusedError) as refused:
        idempotency.run_once(scope="s", key="k", payload={"count": 6}, perform=perform)

    assert refused.value.status == 409
    assert refused.value.code == "idempotency_key_reused"
    assert perform.calls == 0


@pytest.mark.django_db
def test_run_once_keeps_scopes_apart_when_two_callers_use_the_same_key():
    idempotency.run_once(scope="api_key:1", key="k", payload={"x": 1}, perform=Counter())
    other = Counter()

    outcome = idempotency.run_once(scope="api_key:2", key="k", payload={"x": 2}, perform=other)

    assert outcome.replayed is False
    assert other.calls == 1


@pytest.mark.django_db
def test_run_once_records_nothing_when_the_call_is_refused():
    def refuse() -> tuple[int, dict]:
        IdempotencyKey.objects.create(scope="side", key="effect", fingerprint="x")
        raise ValidationFailedError("bad row")

    with pytest.raises(ValidationFailedError):
        idempotency.run_once(scope="s", key="k", payload={"a": 1}, perform=refuse)

    assert not IdempotencyKey.objects.exists()  # neither the key nor the effect
    retry = Counter()
    outcome = idempotency.run_once(scope="s", key="k", payload={"a": 2}, perform=retry)
    assert (outcome.replayed, retry.calls) == (False, 1)


@pytest.mark.django_db
@pytest.mark.parametrize("key", [None, "", "   "])
def test_run_once_refuses_with_422_when_the_key_is_missing(key):
    perform = Counter()

    with pytest.raises(idempotency.IdempotencyKeyRequiredError) as refused:
        idempotency.run_once(scope="s", key=key, payload={}, perform=perform)

    assert refused.value.status == 422
    assert refused.value.code == "idempotency_key_required"
    assert perform.calls == 0


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["x" * 201, "tab\there", "new\nline"])
def test_run_once_refuses_with_422_when_the_key_is_invalid(key):
    perform = Counter()

    with pytest.raises(idempotency.InvalidIdempotencyKeyError) as refused:
        idempotency.run_once(scope="s", key=key, payload={}, perform=perform)

    assert refused.value.status == 422
    assert refused.value.code == "invalid_idempotency_key"
    assert perform.calls == 0
    assert not IdempotencyKey.objects.exists()


def test_fingerprint_ignores_key_order_and_tells_payloads_apart():
    assert idempotency.fingerprint({"a": 1, "b": [1, 2]}) == idempotency.fingerprint(
        {"b": [1, 2], "a": 1}
    )
    assert idempotency.fingerprint({"a": 1}) != idempotency.fingerprint({"a": 2})


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_run_once_performs_once_when_two_threads_race_with_the_same_key():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    barrier = threading.Barrier(2)
    performed = []
    lock = threading.Lock()

    def perform() -> tuple[int, dict]:
        with lock:
            performed.append(1)
        time.sleep(0.3)  # hold the claim open while the other thread tries to claim
        return 201, {"done": True}

    def call(_: int) -> tuple[bool, int, dict]:
        try:
            barrier.wait(timeout=10)
            outcome = idempotency.run_once(
                scope="race", key="same", payload={"a": 1}, perform=perform
            )
            return outcome.replayed, outcome.status, outcome.body
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(call, range(2)))

    assert len(performed) == 1
    assert outcomes == [(False, 201, {"done": True}), (True, 201, {"done": True})]
    assert IdempotencyKey.objects.filter(scope="race").count() == 1
