"""Writing messages into the outbox, in the caller's transaction.

Each function adds rows to ``OutboxMessage`` inside whatever transaction is open, so the
message exists exactly when the change that caused it commits (and vanishes with it on a
rollback). ``dedupe_key`` makes a call idempotent: calling again with the same key writes
nothing, and a racing duplicate is skipped by the unique index (``INSERT … ON CONFLICT DO
NOTHING``), never raising into the caller's transaction.

With ``settings.OUTBOX_DELIVER_ON_COMMIT`` the ``core.deliver_outbox`` task is woken right
after the commit (``core.wakeups``: one waiting wake-up serves many commits), or, with no
Celery broker configured, the new messages are delivered inline; whatever fails there is
retried by the periodic run of the same task.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from omnimall.celery import app as celery_app
from omnimall.core import clock, wakeups
from omnimall.core.models import OutboxKind, OutboxMessage, WebhookSubscription

from . import rows
from .backoff import MAX_ATTEMPTS
from .delivery import deliver_due

# Topics staff can subscribe to in the back office; "*" means every topic.
KNOWN_TOPICS = (
    "order.paid",
    "order.shipped",
    "order.cancelled",
    "order.refunded",
    "order.delivered",
    "order.ready_for_pickup",
    "order.picked_up",
    "order.address_changed",
    "order.pickup_store_changed",
    "order.pickup_kept",
    "order.collector_changed",
    # Outbound points transfers, sent only to the partner's own subscription
    # ("partner:<code>", kept in step by omnimall.members.partners.services).
    "partner.points_transfer",
)
ALL_TOPICS = "*"
TEST_TOPIC = "webhook.test"
MAX_KEY_LENGTH = 200  # OutboxMessage.dedupe_key
# By task name, not by importing core.tasks (which sits a layer above this module).
DELIVER_TASK = "core.deliver_outbox"  # omnimall.core.tasks.deliver_outbox_task


def outbox_key(kind: str, dedupe_key: str, suffix: str = "") -> str:
    """The stored, namespaced key: ``<kind>:<dedupe_key>[:<suffix>]`` (hashed if too long)."""
    if not dedupe_key:
        raise ValueError("dedupe_key must not be empty")
    tail = f":{suffix}" if suffix else ""
    key = f"{kind}:{dedupe_key}{tail}"
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return f"{kind}:sha256:{hashlib.sha256(dedupe_key.encode()).hexdigest()}{tail}"


def event_id(dedupe_key: str) -> str:
    """A stable event id: the same event (same dedupe key) always has the same id."""
    return "evt_" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:24]


def plain_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as plain JSON values (Decimal and datetime become strings)."""
    result: dict[str, Any] = json.loads(json.dumps(dict(data), cls=DjangoJSONEncoder))
    return result


def _start_delivery(message_ids: tuple[int, ...]) -> None:
    if celery_app.conf.task_always_eager:  # no broker (the demo): deliver right here
        deliver_due(message_ids=message_ids)
    else:  # the task drains every due message: a wake-up already waiting covers these
        wakeups.wake(DELIVER_TASK)


def deliver_after_commit(message_ids: list[int]) -> None:
    """Have ``message_ids`` delivered once the current transaction commits (by the
    delivery task, woken unless a wake-up is already waiting; see ``core.wakeups``).

    ``robust``: a broker that is down is logged, never turned into an error for the
    request that already committed; the periodic task delivers the messages later.
    """
    if message_ids and settings.OUTBOX_DELIVER_ON_COMMIT:
        transaction.on_commit(partial(_start_delivery, tuple(message_ids)), robust=True)


def write_messages(messages: list[OutboxMessage]) -> int:
    """Insert the messages whose dedupe key is new; returns how many were new.

    One statement (``INSERT … ON CONFLICT DO NOTHING RETURNING id``): a key already
    stored, or taken first by a concurrent writer, is skipped quietly.
    """
    ids = rows.insert_new(messages)
    deliver_after_commit(ids)
    return len(ids)


def _subscribed(subscription: WebhookSubscription, topic: str) -> bool:
    topics = subscription.topics if isinstance(subscription.topics, list) else []
    return topic in topics or ALL_TOPICS in topics


def webhook_message(
    *, subscription: WebhookSubscription, topic: str, body: dict[str, Any], dedupe_key: str
) -> OutboxMessage:
    return OutboxMessage(
        kind=OutboxKind.WEBHOOK,
        topic=topic,
        destination=subscription.url,
        subscription=subscription,
        payload=body,
        dedupe_key=outbox_key("webhook", dedupe_key, str(subscription.pk)),
        max_attempts=MAX_ATTEMPTS[OutboxKind.WEBHOOK],
    )


def event_body(*, topic: str, data: Mapping[str, Any], dedupe_key: str) -> dict[str, Any]:
    return {
        "id": event_id(dedupe_key),
        "topic": topic,
        "created_at": clock.now().isoformat(),
        "data": plain_json(data),
    }


def publish_webhook_event(*, topic: str, data: dict[str, Any], dedupe_key: str) -> int:
    """Queue ``topic`` for every active subscription to it (or to "*").

    The body each receiver gets is ``{"id", "topic", "created_at", "data"}``; ``id`` is
    the same for every receiver and every retry of this event. Returns how many messages
    were newly queued (0 when this dedupe key was published before, or nobody listens).
    """
    subscriptions = [s for s in rows.active_subscriptions() if _subscribed(s, topic)]
    if not subscriptions:
        return 0
    body = event_body(topic=topic, data=data, dedupe_key=dedupe_key)
    return write_messages(
        [
            webhook_message(subscription=s, topic=topic, body=body, dedupe_key=dedupe_key)
            for s in subscriptions
        ]
    )


def send_email(
    *, to: str, subject: str, body: str, topic: str, dedupe_key: str, html: str = ""
) -> None:
    """Queue one email (plain text, with an optional HTML alternative) to ``to``."""
    one_line_subject = " ".join(subject.splitlines()).strip()
    write_messages(
        [
            OutboxMessage(
                kind=OutboxKind.EMAIL,
                topic=topic,
                destination=to[:500],
                payload={"to": to, "subject": one_line_subject, "body": body, "html": html},
                dedupe_key=outbox_key("email", dedupe_key),
                max_attempts=MAX_ATTEMPTS[OutboxKind.EMAIL],
            )
        ]
    )


def send_text(*, phone: str, text: str, topic: str, dedupe_key: str) -> None:
    """Queue one text message (SMS) to ``phone`` (E.164), sent by ``core.sms``'s backend."""
    write_messages(
        [
            OutboxMessage(
                kind=OutboxKind.SMS,
                topic=topic,
                destination=phone[:500],
                payload={"phone": phone, "text": text},
                dedupe_key=outbox_key("sms", dedupe_key),
                max_attempts=MAX_ATTEMPTS[OutboxKind.SMS],
            )
        ]
    )


def enqueue_gateway_notification(
    *, url: str, params: dict[str, str], topic: str, dedupe_key: str
) -> None:
    """Queue a payment gateway's asynchronous notification: ``params`` POSTed
    form-encoded to ``url`` until the reply body is exactly ``success``."""
    write_messages(
        [
            OutboxMessage(
                kind=OutboxKind.GATEWAY_NOTIFICATION,
                topic=topic,
                destination=url[:500],
                payload={"url": url, "params": {str(k): str(v) for k, v in params.items()}},
                dedupe_key=outbox_key("gateway", dedupe_key),
                max_attempts=MAX_ATTEMPTS[OutboxKind.GATEWAY_NOTIFICATION],
            )
        ]
    )
