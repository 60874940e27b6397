"""Webhook signatures, Stripe-style: ``X-Omnimall-Signature: t=<unix>,v1=<hex>``.

``v1`` is HMAC-SHA256 with the subscription's secret over ``f"{t}.{body}"`` (the raw
request body, UTF-8). A receiver recomputes it, compares in constant time, and refuses a
``t`` outside its tolerance window (5 minutes by default) so a captured request cannot be
replayed later. :func:`verify` is the reference check (docs/outbox.md shows it stand-alone).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Omnimall-Signature"
TOLERANCE_SECONDS = 300


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret=secret, timestamp=t, body=body)}"


def verify(
    *,
    secret: str,
    body: bytes,
    header: str,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is recent enough.

    Several ``v1=`` values may be present (while a secret is being rotated); one match
    is enough.
    """
    pairs = [item.strip().split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in pairs if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, value) for key, value in pairs if key == "v1")
