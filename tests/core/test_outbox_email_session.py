"""A delivery run sends its emails over one connection of the e-mail backend (one SMTP
session), and a failure gives the next email a fresh connection."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from omnimall.core import outbox
from omnimall.core.models import OutboxMessage, OutboxState

pytestmark = pytest.mark.django_db


class RecordingBackend(BaseEmailBackend):
    """Records each connection and what was sent over it; ``fail_for`` addresses fail
    (as an SMTP server refusing them), breaking the connection like smtplib does."""

    connections: ClassVar[list[list[str]]] = []
    fail_for: ClassVar[set[str]] = set()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent: list[str] | None = None

    def open(self) -> bool:
        if self.sent is not None:
            return False
        self.sent = []
        self.connections.append(self.sent)
        return True

    def close(self) -> None:
        self.sent = None

    def send_messages(self, email_messages) -> int:
        created = self.open()
        assert self.sent is not None
        try:
            for message in email_messages:
                if set(message.to) & self.fail_for:
                    self.sent = None
                    raise ConnectionResetError("refused")
                self.sent.extend(message.to)
            return len(email_messages)
        finally:
            if created:
                self.close()


@pytest.fixture
def backend(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.EMAIL_BACKEND = f"{__name__}.RecordingBackend"
    RecordingBackend.connections = []
    RecordingBackend.fail_for = set()
    return RecordingBackend


def queue(*addresses: str) -> None:
    for address in addresses:
        outbox.send_email(
            to=address, subject="Your order", body="…", topic="order.placed", dedupe_key=address
        )


def test_one_run_sends_every_email_over_one_connection(backend):
    queue("a@example.com", "b@example.com", "c@example.com")

    report = outbox.deliver_due()

    assert report.delivered == 3
    assert backend.connections == [["a@example.com", "b@example.com", "c@example.com"]]


def test_after_a_failure_the_next_email_gets_a_fresh_connection(backend):
    backend.fail_for = {"b@example.com"}
    queue("a@example.com", "b@example.com", "c@example.com")

    report = outbox.deliver_due()

    assert (report.delivered, report.failed) == (2, 1)
    assert backend.connections == [["a@example.com"], ["c@example.com"]]
    failed = OutboxMessage.objects.get(destination="b@example.com")
    assert failed.state == OutboxState.PENDING
    assert "ConnectionResetError" in failed.last_error


def test_each_run_has_its_own_connection(backend):
    queue("a@example.com")
    outbox.deliver_due()
    queue("b@example.com")
    outbox.deliver_due()

    assert backend.connections == [["a@example.com"], ["b@example.com"]]
