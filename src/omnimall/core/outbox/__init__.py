"""The outbox: messages to outside systems, written in the transaction that causes them
and delivered afterwards by a worker, with retries, back-off and dead letters.

Enqueue (inside the caller's transaction, idempotent on ``dedupe_key``)::

    from omnimall.core import outbox
    outbox.publish_webhook_event(topic="order.paid", data={...}, dedupe_key="order:42:paid")
    outbox.send_email(to=..., subject=..., body=..., topic="order.paid", dedupe_key=...)
    outbox.enqueue_gateway_notification(url=..., params={...}, topic=..., dedupe_key=...)
    outbox.send_text(phone="+8613800138000", text=..., topic="order.ready_for_pickup", ...)

Deliver (the ``core.deliver_outbox`` task, ``omnimall manage deliver_outbox``)::

    outbox.deliver_due(now=None, limit=100) -> DeliveryReport

Back office: ``retry_messages``, ``save_subscription``, ``send_test_event``;
``outbox_counts`` (pending and dead letters).
See docs/outbox.md.
"""

from __future__ import annotations

from .backoff import MAX_ATTEMPTS, retry_delay
from .counts import OutboxCounts, outbox_counts
from .delivery import DeliveryReport, deliver_due
from .enqueue import (
    ALL_TOPICS,
    KNOWN_TOPICS,
    TEST_TOPIC,
    enqueue_gateway_notification,
    publish_webhook_event,
    send_email,
    send_text,
)
from .signing import SIGNATURE_HEADER, signature_header, verify
from .staff import (
    delete_subscription,
    new_secret,
    retry_messages,
    save_subscription,
    send_test_event,
)

__all__ = [
    "ALL_TOPICS",
    "KNOWN_TOPICS",
    "MAX_ATTEMPTS",
    "SIGNATURE_HEADER",
    "TEST_TOPIC",
    "DeliveryReport",
    "OutboxCounts",
    "delete_subscription",
    "deliver_due",
    "enqueue_gateway_notification",
    "new_secret",
    "outbox_counts",
    "publish_webhook_event",
    "retry_delay",
    "retry_messages",
    "save_subscription",
    "send_email",
    "send_test_event",
    "send_text",
    "signature_header",
    "verify",
]
