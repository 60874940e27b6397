from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from omnimall.core import clock, idempotency
from omnimall.core.models import IdempotencyKey
from omnimall.core.tasks import purge_idempotency_keys_task

pytestmark = pytest.mark.django_db


def _store(key: str) -> None:
    idempotency.run_once(scope="test", key=key, payload={"k": key}, perform=lambda: (201, {}))


def test_purge_forgets_only_keys_past_the_retry_window() -> None:
    with time_machine.travel(clock.now() - idempotency.KEEP_FOR - timedelta(hours=1)):
        _store("old")
    _store("fresh")

    assert purge_idempotency_keys_task() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
