"""Run a retried write once: the key is claimed in the same transaction as the effect.

Every write an outside system may retry (a WMS stock report, a POS sale, a payment
notification, a partner transfer) goes through :func:`run_once`:

- the first call claims ``(scope, key)`` under a unique constraint, performs the write and
  stores its response, all in one transaction — so either both land or neither does;
- a replay with the same payload returns the stored response and performs nothing;
- a replay with a different payload is refused with 409 ``idempotency_key_reused``;
- two concurrent first calls cannot both perform: the second one's claim waits on the
  unique index until the first commits, then replays its result.

A call that is refused (a domain error) records nothing: nothing was applied, so a retry
is validated afresh.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

from omnimall.core import clock
from omnimall.core.errors import ConflictError, ValidationFailedError
from omnimall.core.models import IdempotencyKey

MAX_KEY_LENGTH = 200
KEEP_FOR = timedelta(days=30)


class IdempotencyKeyReusedError(ConflictError):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for a different request."


class InvalidIdempotencyKeyError(ValidationFailedError):
    code = "invalid_idempotency_key"
    message = "The Idempotency-Key header must be 1 to 200 printable characters."


class IdempotencyKeyRequiredError(InvalidIdempotencyKeyError):
    code = "idempotency_key_required"
    message = (
        "This call needs an Idempotency-Key header: one unique id per request, sent again "
        "unchanged on a retry."
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool


def fingerprint(payload: Any) -> str:
    """A stable hash of a JSON-able payload (key order does not matter)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _clean_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise IdempotencyKeyRequiredError()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidIdempotencyKeyError()
    return key


def _replay(stored: IdempotencyKey, digest: str) -> Outcome:
    if stored.fingerprint != digest:
        raise IdempotencyKeyReusedError(key=stored.key)
    return Outcome(status=stored.response_status, body=stored.response_body, replayed=True)


def run_once(
    *,
    scope: str,
    key: str | None,
    payload: Any,
    perform: Callable[[], tuple[int, dict[str, Any]]],
) -> Outcome:
    """Perform ``perform()`` once per ``(scope, key)``; see the module docstring."""
    key = _clean_key(key)
    digest = fingerprint(payload)
    stored = IdempotencyKey.objects.filter(scope=scope, key=key).first()
    if stored is not None:
        return _replay(stored, digest)
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = IdempotencyKey.objects.create(scope=scope, key=key, fingerprint=digest)
        except IntegrityError:
            claim = None  # a concurrent first call committed it; replay below
        if claim is not None:
            status, body = perform()
            # Stored as JSON: the first caller gets exactly what a replay will get.
            body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
            claim.response_status = status
            claim.response_body = body
            claim.save(update_fields=["response_status", "response_body"])
            return Outcome(status=status, body=body, replayed=False)
    return _replay(IdempotencyKey.objects.get(scope=scope, key=key), digest)


def purge_expired(*, keep_for: timedelta = KEEP_FOR) -> int:
    """Forget keys older than ``keep_for`` (a retry window, not an archive)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=clock.now() - keep_for).delete()
    return deleted
