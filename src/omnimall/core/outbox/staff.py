"""What staff do with the outbox in the back office: retry dead letters, manage webhook
subscriptions, send a test event. Every change is audited."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.db import transaction

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.core.models import OutboxMessage, OutboxState, WebhookSubscription

from .enqueue import TEST_TOPIC, deliver_after_commit, event_body, webhook_message, write_messages

SECRET_MASK = "(hidden)"  # noqa: S105 - what the audit trail shows instead of a secret


def new_secret() -> str:
    return secrets.token_hex(32)


@transaction.atomic
def retry_messages(*, message_ids: list[int], actor: Actor) -> int:
    """Put dead (or pending) messages back in line for an attempt now, with a fresh count
    of attempts and no error: ``attempts`` and ``last_error`` describe the current run of
    attempts, so the old failure would outlive a successful retry. What they were is kept
    in the audit entry. Delivered messages are left alone. Returns how many were requeued."""
    now = clock.now()
    messages = list(
        OutboxMessage.objects.select_for_update()
        .filter(pk__in=message_ids, state__in=[OutboxState.DEAD, OutboxState.PENDING])
        .order_by("pk")
    )
    for message in messages:
        changes: dict[str, Any] = {
            "state": [message.state, OutboxState.PENDING],
            "attempts": [message.attempts, 0],
        }
        if message.last_error:
            changes["last_error"] = [message.last_error, ""]
        message.state = OutboxState.PENDING
        message.attempts = 0
        message.last_error = ""
        message.next_attempt_at = now
        message.save(update_fields=["state", "attempts", "last_error", "next_attempt_at"])
        audit.record(actor=actor, action="outbox_message.retried", subject=message, changes=changes)
    deliver_after_commit([message.pk for message in messages])
    return len(messages)


@transaction.atomic
def save_subscription(
    *, subscription: WebhookSubscription, actor: Actor, reason: str = ""
) -> WebhookSubscription:
    """Create or change a webhook subscription (a blank secret gets a generated one).

    The audit entry notes that the secret changed, never the secret itself.
    """
    if not subscription.secret:
        subscription.secret = new_secret()
    existing = (
        WebhookSubscription.objects.select_for_update().filter(pk=subscription.pk).first()
        if subscription.pk is not None
        else None
    )
    before = {} if existing is None else audit.snapshot(existing)
    subscription.save()
    changes = audit.diff(before, audit.snapshot(subscription))
    if "secret" in changes:
        changes["secret"] = [SECRET_MASK if existing else None, SECRET_MASK]
    verb = "created" if existing is None else "changed"
    audit.record(
        actor=actor,
        action=f"webhooksubscription.{verb}",
        subject=subscription,
        changes=changes,
        reason=reason,
    )
    return subscription


@transaction.atomic
def delete_subscription(
    *, subscription: WebhookSubscription, actor: Actor, reason: str = ""
) -> None:
    """Remove a subscription; its queued messages stay (they become dead letters)."""
    snapshot = audit.snapshot(subscription)
    snapshot["secret"] = SECRET_MASK
    audit.record(
        actor=actor,
        action="webhooksubscription.deleted",
        subject=subscription,
        changes={key: [value, None] for key, value in snapshot.items()},
        reason=reason,
    )
    subscription.delete()


@transaction.atomic
def send_test_event(*, subscription_id: int, actor: Actor) -> int:
    """Queue a ``webhook.test`` event to one subscription, whatever its topics."""
    subscription = WebhookSubscription.objects.get(pk=subscription_id)
    dedupe_key = f"test:{uuid.uuid4().hex}"
    body = event_body(
        topic=TEST_TOPIC,
        data={"subscription": subscription.name, "message": "This is a test event."},
        dedupe_key=dedupe_key,
    )
    count = write_messages(
        [
            webhook_message(
                subscription=subscription, topic=TEST_TOPIC, body=body, dedupe_key=dedupe_key
            )
        ]
    )
    audit.record(actor=actor, action="webhooksubscription.test_sent", subject=subscription)
    return count
