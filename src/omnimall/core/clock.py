"""The one source of "now": aware datetimes, easy to freeze in tests (time-machine)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
