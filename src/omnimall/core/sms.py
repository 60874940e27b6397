"""Text messages to shoppers' and members' phones (one-time codes, order updates).

The backend is chosen by the ``SMS_BACKEND`` setting:

- ``file`` (the default, for the demo): each message is written to
  ``VAR_DIR/sms/<timestamp>-<phone>.txt`` (``SMS_FILE_PATH`` overrides the folder);
- ``console``: printed to standard output;
- ``locmem``: kept in ``outbox`` (tests).

A real SMS gateway plugs in as a dotted path to a callable ``send(phone, text)``.
One-time codes are sent after the transaction that caused them commits
(``send_after_commit``); order updates go through the outbox (``outbox.send_text``), which
retries them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from omnimall.core import clock


@dataclass(frozen=True, slots=True)
class TextMessage:
    phone: str
    text: str


outbox: list[TextMessage] = []


def sms_folder() -> Path:
    configured = getattr(settings, "SMS_FILE_PATH", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "sms"


def _to_file(phone: str, text: str) -> None:
    folder = sms_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%d-%H%M%S-%f")
    name = f"{stamp}-{phone.lstrip('+')}.txt"
    (folder / name).write_text(f"To: {phone}\n\n{text}\n", encoding="utf-8")


def _to_console(phone: str, text: str) -> None:
    sys.stdout.write(f"SMS to {phone}: {text}\n")
    sys.stdout.flush()


def _to_locmem(phone: str, text: str) -> None:
    outbox.append(TextMessage(phone=phone, text=text))


BACKENDS: dict[str, Callable[[str, str], None]] = {
    "file": _to_file,
    "console": _to_console,
    "locmem": _to_locmem,
}


def send(*, phone: str, text: str) -> None:
    """Send now (no transaction concerns): the configured backend."""
    name = getattr(settings, "SMS_BACKEND", "file")
    backend = BACKENDS.get(name) or import_string(name)
    backend(phone, text)


def send_after_commit(*, phone: str, text: str) -> None:
    transaction.on_commit(partial(send, phone=phone, text=text))
