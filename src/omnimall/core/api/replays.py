"""A retried POST answered once: ``core.idempotency.run_once`` for an API handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from ninja import Status

from omnimall.core import idempotency


def respond_once(
    response: HttpResponse,
    *,
    scope: str,
    key: str | None,
    payload: Any,
    perform: Callable[[], tuple[int, dict[str, Any]]],
) -> Status[dict[str, Any]]:
    """``perform()``'s status and body the first time; the same again on a retry with the
    same ``key`` in ``scope`` (marked ``Idempotent-Replayed: true``), nothing performed."""
    outcome = idempotency.run_once(scope=scope, key=key, payload=payload, perform=perform)
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(outcome.status, outcome.body)
