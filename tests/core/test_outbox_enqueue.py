"""Writing to the outbox: one message per subscriber, idempotent, inside the caller's
transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from omnimall.core import outbox
from omnimall.core.models import OutboxKind, OutboxMessage, OutboxState, WebhookSubscription

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_delivery_on_commit(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


def subscribe(name: str, topics: list[str], is_active: bool = True) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name=name, url=f"https://{name}.example.com/hook", secret="x", topics=topics,
        is_active=is_active,
    )  # fmt: skip


def email(dedupe_key: str, to: str = "a@example.com") -> None:
    outbox.send_email(to=to, subject="s", body="b", topic="order.paid", dedupe_key=dedupe_key)


def test_publish_writes_one_message_per_active_subscriber_of_the_topic():
    erp = subscribe("erp", ["order.paid", "order.shipped"])
    everything = subscribe("bi", ["*"])
    subscribe("crm", ["order.shipped"])
    subscribe("old", ["*"], is_active=False)

    count = outbox.publish_webhook_event(
        topic="order.paid", data={"total": Decimal("99.00")}, dedupe_key="order:7:paid"
    )

    assert count == 2
    messages = list(OutboxMessage.objects.order_by("subscription_id"))
    assert [m.subscription_id for m in messages] == [erp.pk, everything.pk]
    assert {m.destination for m in messages} == {erp.url, everything.url}
    assert all(m.kind == OutboxKind.WEBHOOK and m.state == OutboxState.PENDING for m in messages)
    first, second = (m.payload for m in messages)
    assert first == second  # the same event, with the same id, for every receiver
    assert first["topic"] == "order.paid"
    assert first["data"] == {"total": "99.00"}
    assert first["id"].startswith("evt_")


def test_publish_twice_with_same_dedupe_key_writes_nothing_more():
    subscribe("erp", ["order.paid"])
    outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="order:7:paid")

    again = outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="order:7:paid")

    assert again == 0
    assert OutboxMessage.objects.count() == 1


def test_publish_reaches_a_subscriber_added_later_on_a_replay():
    subscribe("erp", ["order.paid"])
    outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="k")
    subscribe("bi", ["*"])

    assert outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="k") == 1
    assert OutboxMessage.objects.count() == 2


def test_publish_without_subscribers_writes_nothing():
    assert outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="k") == 0
    assert not OutboxMessage.objects.exists()


def test_send_email_is_idempotent_and_keeps_the_callers_transaction_usable():
    with transaction.atomic():
        for _ in range(3):
            email("e1")
        email("e2")
        still_usable = OutboxMessage.objects.count()

    assert still_usable == 2
    assert OutboxMessage.objects.filter(kind=OutboxKind.EMAIL).count() == 2


def place_order_that_fails() -> None:
    with transaction.atomic():
        outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="k")
        email("k")
        outbox.enqueue_gateway_notification(
            url="http://127.0.0.1:1/notify", params={"a": "1"}, topic="t", dedupe_key="k"
        )
        assert OutboxMessage.objects.count() == 3
        raise RuntimeError("the order could not be placed")


def test_enqueue_inside_a_rolled_back_transaction_leaves_nothing():
    subscribe("erp", ["*"])

    with pytest.raises(RuntimeError, match="could not be placed"):
        place_order_that_fails()

    assert not OutboxMessage.objects.exists()


def test_same_dedupe_key_for_different_kinds_does_not_collide():
    subscribe("erp", ["order.paid"])

    outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="order:1:paid")
    email("order:1:paid")

    assert OutboxMessage.objects.count() == 2


def test_very_long_dedupe_key_is_hashed_to_fit():
    email("x" * 500)
    email("x" * 500)

    (message,) = OutboxMessage.objects.all()
    assert len(message.dedupe_key) <= 200


def test_gateway_notification_keeps_url_and_params():
    outbox.enqueue_gateway_notification(
        url="http://shop.example.com/payments/notify/sandbox/",
        params={"out_trade_no": "P1", "total_amount": "10.00"},
        topic="payment.notify",
        dedupe_key="P1",
    )

    message = OutboxMessage.objects.get()
    assert message.kind == OutboxKind.GATEWAY_NOTIFICATION
    assert message.destination == "http://shop.example.com/payments/notify/sandbox/"
    assert message.payload["params"] == {"out_trade_no": "P1", "total_amount": "10.00"}
    assert message.max_attempts == 9
