"""Calendar days that people type: command arguments (``--date 2026-11-27``) and the times
in files we reconcile. Pure Python, no Django.

A day is taken only within the years the shop can have data for (``EARLIEST`` to
``LATEST``, as the back office's store-credit report). Beyond them a date is a typo, and at
the edges of ``datetime`` it cannot even be used: the day after 9999-12-31 and the UTC
time of 0001-01-01 00:00 in Shanghai do not exist (``OverflowError``).
"""

from __future__ import annotations

import argparse
from datetime import date, datetime

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


def out_of_range(day: date) -> str | None:
    """Why ``day`` cannot be used, or None when it can."""
    if EARLIEST <= day <= LATEST:
        return None
    return f"{day.isoformat()} is out of range: use a day from {EARLIEST} to {LATEST}"


def moment_out_of_range(moment: datetime) -> str | None:
    """As ``out_of_range`` for a time (its date in its own offset)."""
    return out_of_range(moment.date())


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` day within range; ``ValueError`` saying why not."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text[:30]!r} is not a date (YYYY-MM-DD)") from None
    problem = out_of_range(day)
    if problem:
        raise ValueError(problem)
    return day


def day_argument(text: str) -> date:
    """``type=`` of a command's day argument: a bad or out-of-range day is a usage error
    with its reason (``CommandError`` under ``call_command``), not a traceback."""
    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
