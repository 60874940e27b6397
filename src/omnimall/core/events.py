"""A tiny in-process event bus (STYLE.md §7).

Publishers call ``publish_on_commit(event)``; handlers are registered explicitly in an
``AppConfig.ready()`` with ``subscribe``. Delivery is best-effort after COMMIT: what must
never be lost goes through the outbox instead (later issues).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction

Handler = Callable[[Any], None]
_handlers: dict[type, list[Handler]] = defaultdict(list)


def subscribe(event_type: type, handler: Handler) -> None:
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def publish(event: object) -> None:
    for handler in list(_handlers[type(event)]):
        handler(event)


def publish_on_commit(event: object) -> None:
    transaction.on_commit(partial(publish, event))
