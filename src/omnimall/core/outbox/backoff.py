"""When to try a failed delivery again: pure functions, no Django.

Webhooks and emails back off exponentially (30 s, 1 min, 2 min, … capped at 6 h) with a
little jitter, so a receiver that comes back up is not hit by every queued message in
the same second. Gateway notifications follow the fixed schedule payment gateways use
(Alipay-like: 15 s, 4 min, 10 min, 10 min, 1 h, 2 h, 6 h, 15 h — about 25 hours in all).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

BASE_SECONDS = 30
CAP_SECONDS = 6 * 60 * 60
JITTER = 0.10  # up to +10 %; never earlier than the schedule

# Seconds to wait after the n-th failed gateway notification (n = 1, 2, …).
GATEWAY_SCHEDULE = (15, 4 * 60, 10 * 60, 10 * 60, 60 * 60, 2 * 60 * 60, 6 * 60 * 60, 15 * 60 * 60)

# Attempts before a message becomes a dead letter (the first try included).
MAX_ATTEMPTS = {
    "webhook": 12,  # about 14.5 hours of retries
    "email": 8,  # about an hour
    "gateway_notification": len(GATEWAY_SCHEDULE) + 1,  # about 25 hours
    "sms": 8,  # about an hour, as an email: an order update later than that is stale
}


def exponential_seconds(failures: int) -> int:
    """The back-off after ``failures`` failed attempts (1 → 30 s, 2 → 60 s, …, cap 6 h)."""
    if failures < 1:
        return 0
    return min(CAP_SECONDS, BASE_SECONDS * 2 ** min(failures - 1, 20))


def gateway_seconds(failures: int) -> int:
    """The gateway schedule; past its end the last interval repeats."""
    if failures < 1:
        return 0
    return GATEWAY_SCHEDULE[min(failures, len(GATEWAY_SCHEDULE)) - 1]


def retry_delay(kind: str, failures: int, *, jitter: bool = True) -> timedelta:
    """How long to wait before the next attempt of a ``kind`` message that failed
    ``failures`` times. Gateway notifications keep to their schedule exactly."""
    if kind == "gateway_notification":
        return timedelta(seconds=gateway_seconds(failures))
    seconds = exponential_seconds(failures)
    if jitter and seconds:
        extra_ms = secrets.randbelow(int(seconds * JITTER * 1000) + 1)
        return timedelta(seconds=seconds, milliseconds=extra_ms)
    return timedelta(seconds=seconds)
