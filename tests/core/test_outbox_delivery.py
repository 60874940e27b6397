"""Delivering the outbox over real HTTP (a local receiver), by email, and its back-off."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command

from omnimall.core import clock, outbox
from omnimall.core.models import OutboxMessage, OutboxState, WebhookSubscription
from omnimall.core.outbox import backoff

from .test_outbox_receiver import Receiver

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-for-tests"


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_delivery_on_commit(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.OUTBOX_HTTP_TIMEOUT = 3


def subscribe(url: str, topics=("order.paid",), **fields) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name=fields.pop("name", "ERP"), url=url, secret=SECRET, topics=list(topics), **fields
    )


def receiver_accepts(secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What docs/outbox.md tells a receiver to do, written independently of our code."""
    items = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(items["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, items["v1"])


def test_webhook_delivery_is_signed_so_the_receiver_can_verify_it(receiver):
    subscribe(receiver.url)
    outbox.publish_webhook_event(
        topic="order.paid", data={"number": "261127482193", "total": "99.00"}, dedupe_key="o1"
    )

    report = outbox.deliver_due()

    assert report.delivered == 1
    (request,) = receiver.requests
    message = OutboxMessage.objects.get()
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Omnimall-Topic"] == "order.paid"
    assert request.headers["X-Omnimall-Delivery"] == str(message.pk)
    assert receiver_accepts(SECRET, request.body, request.headers["X-Omnimall-Signature"])
    assert not receiver_accepts("other", request.body, request.headers["X-Omnimall-Signature"])
    assert not receiver_accepts(
        SECRET, request.body.replace(b"99.00", b"0.01"), request.headers["X-Omnimall-Signature"]
    )
    assert outbox.verify(
        secret=SECRET, body=request.body, header=request.headers["X-Omnimall-Signature"]
    )
    event = json.loads(request.body)
    assert set(event) == {"id", "topic", "created_at", "data"}
    assert event["data"] == {"number": "261127482193", "total": "99.00"}
    message.refresh_from_db()
    assert message.state == OutboxState.DELIVERED
    assert message.delivered_at is not None
    assert message.attempts == 1


def test_signature_older_than_the_window_is_refused():
    body = b'{"a":1}'
    header = outbox.signature_header(secret=SECRET, body=body, timestamp=int(time.time()) - 600)

    assert not outbox.verify(secret=SECRET, body=body, header=header)
    assert outbox.verify(secret=SECRET, body=body, header=header, tolerance=900)


def test_failed_webhook_is_retried_after_back_off_when_receiver_answers_500(receiver):
    receiver.default = (500, b"database down")
    subscribe(receiver.url)
    outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="o1")
    now = clock.now()

    report = outbox.deliver_due(now=now)

    message = OutboxMessage.objects.get()
    assert (report.delivered, report.failed, report.dead) == (0, 1, 0)
    assert message.state == OutboxState.PENDING
    assert message.attempts == 1
    assert "HTTP 500" in message.last_error
    assert "database down" in message.last_error
    assert now + timedelta(seconds=30) <= message.next_attempt_at <= now + timedelta(seconds=33)
    # Not due yet: nothing is sent before the back-off has passed.
    assert outbox.deliver_due(now=now + timedelta(seconds=29)).failed == 0
    assert len(receiver.requests) == 1


def test_exponential_back_off_doubles_and_is_capped_at_six_hours():
    delays = [backoff.retry_delay("webhook", n, jitter=False).total_seconds() for n in range(1, 13)]

    assert delays[:5] == [30, 60, 120, 240, 480]
    assert max(delays) == 6 * 60 * 60
    jittered = backoff.retry_delay("email", 3).total_seconds()
    assert 120 <= jittered <= 132


def test_gateway_back_off_follows_the_alipay_like_schedule():
    delays = [backoff.retry_delay("gateway_notification", n).total_seconds() for n in range(1, 9)]

    assert delays == [15, 240, 600, 600, 3600, 7200, 21600, 54000]


def test_message_becomes_dead_letter_after_max_attempts_and_retry_brings_it_back(receiver):
    receiver.default = (503, b"")
    subscribe(receiver.url)
    outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="o1")
    message = OutboxMessage.objects.get()
    assert message.max_attempts == outbox.MAX_ATTEMPTS["webhook"]
    at = clock.now()

    dead = 0
    for _ in range(message.max_attempts):
        dead += outbox.deliver_due(now=at).dead
        at += timedelta(hours=7)  # past any back-off

    message.refresh_from_db()
    assert dead == 1
    assert message.state == OutboxState.DEAD
    assert message.attempts == message.max_attempts
    assert len(receiver.requests) == message.max_attempts
    assert outbox.deliver_due(now=at + timedelta(days=1)).dead == 0  # dead letters wait

    receiver.default = (204, b"")
    from omnimall.core.actors import Actor

    assert outbox.retry_messages(message_ids=[message.pk], actor=Actor.system()) == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == (OutboxState.PENDING, 0)
    assert outbox.deliver_due().delivered == 1
    message.refresh_from_db()
    assert message.state == OutboxState.DELIVERED


def test_redirect_is_a_failed_delivery(receiver):
    receiver.default = (302, b"")
    subscribe(receiver.url)
    outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="o1")

    assert outbox.deliver_due().failed == 1
    assert "HTTP 302" in OutboxMessage.objects.get().last_error


def test_unreachable_receiver_is_a_failed_attempt():
    receiver = Receiver().start()
    url = receiver.url
    receiver.stop()  # nothing listens on the port any more
    subscribe(url)
    outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="o1")

    report = outbox.deliver_due()

    assert report.failed == 1
    assert "URLError" in OutboxMessage.objects.get().last_error


def test_webhook_for_deleted_subscription_goes_straight_to_dead_letters(receiver):
    subscription = subscribe(receiver.url)
    outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="o1")
    subscription.delete()

    report = outbox.deliver_due()

    assert report.dead == 1
    assert receiver.requests == []
    assert "deleted" in OutboxMessage.objects.get().last_error


def test_email_is_sent_from_the_shop_address_with_html_alternative(settings):
    outbox.send_email(
        to="ann@example.com",
        subject="Order 261127 482193\nis paid",
        body="Thank you.",
        html="<p>Thank you.</p>",
        topic="order.paid",
        dedupe_key="order:1:paid",
    )

    report = outbox.deliver_due()

    assert report.delivered == 1
    (email,) = mail.outbox
    assert email.to == ["ann@example.com"]
    assert email.from_email == settings.DEFAULT_FROM_EMAIL
    assert email.subject == "Order 261127 482193 is paid"
    assert email.body == "Thank you."
    assert email.alternatives[0][0] == "<p>Thank you.</p>"
    assert OutboxMessage.objects.get().state == OutboxState.DELIVERED


def test_gateway_notification_is_delivered_only_when_reply_is_exactly_success(receiver):
    receiver.reply(200, b"ok")
    receiver.reply(200, b"SUCCESS")
    receiver.reply(200, b"success!")
    receiver.default = (200, b"  success\r\n")
    outbox.enqueue_gateway_notification(
        url=receiver.url,
        params={"out_trade_no": "P1", "trade_status": "TRADE_SUCCESS", "subject": "订单"},
        topic="payment.notify",
        dedupe_key="P1:TRADE_SUCCESS",
    )
    at = clock.now()

    results = []
    for _ in range(4):
        results.append(outbox.deliver_due(now=at))
        at += timedelta(days=1)

    assert [(r.delivered, r.failed) for r in results] == [(0, 1), (0, 1), (0, 1), (1, 0)]
    message = OutboxMessage.objects.get()
    assert message.state == OutboxState.DELIVERED
    assert message.attempts == 4
    request = receiver.requests[0]
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert dict(urllib.parse.parse_qsl(request.body.decode())) == {
        "out_trade_no": "P1",
        "trade_status": "TRADE_SUCCESS",
        "subject": "订单",
    }


def test_gateway_notification_retry_waits_fifteen_seconds_first(receiver):
    receiver.default = (200, b"fail")
    outbox.enqueue_gateway_notification(
        url=receiver.url, params={"a": "1"}, topic="payment.notify", dedupe_key="P2"
    )
    now = clock.now()

    outbox.deliver_due(now=now)

    assert OutboxMessage.objects.get().next_attempt_at == now + timedelta(seconds=15)


def test_delivery_on_commit_sends_right_after_the_transaction(
    settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_DELIVER_ON_COMMIT = True

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outbox.send_email(
            to="bo@example.com", subject="Hi", body="Body", topic="t", dedupe_key="k1"
        )
        assert mail.outbox == []  # not before the commit

    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get().state == OutboxState.DELIVERED


def test_deliver_due_takes_messages_in_id_order_up_to_the_limit():
    for n in range(3):
        outbox.send_email(
            to=f"c{n}@example.com", subject="s", body="b", topic="t", dedupe_key=str(n)
        )

    assert outbox.deliver_due(limit=2).delivered == 2
    assert [m.to[0] for m in mail.outbox] == ["c0@example.com", "c1@example.com"]
    assert outbox.deliver_due(limit=2).delivered == 1


def test_claimed_message_is_not_delivered_twice():
    outbox.send_email(to="d@example.com", subject="s", body="b", topic="t", dedupe_key="d")
    from omnimall.core.outbox.delivery import claim_due

    (claimed,) = claim_due(at=clock.now(), size=10)

    # While this worker holds the lease, another worker finds nothing due.
    assert claim_due(at=clock.now(), size=10) == []
    assert outbox.deliver_due().delivered == 0
    assert claimed.next_attempt_at > clock.now()


def test_command_delivers_and_prints_counts():
    from io import StringIO

    outbox.send_email(to="e@example.com", subject="s", body="b", topic="t", dedupe_key="e")
    out = StringIO()

    call_command("deliver_outbox", stdout=out)

    assert "delivered 1" in out.getvalue()
    assert "0 pending, 0 dead letters" in out.getvalue()
    assert len(mail.outbox) == 1


def test_task_delivers_due_messages():
    from omnimall.core.tasks import deliver_outbox_task

    outbox.send_email(to="f@example.com", subject="s", body="b", topic="t", dedupe_key="f")

    assert deliver_outbox_task.delay().get() == {"delivered": 1, "failed": 0, "dead": 0}


def test_retry_messages_clears_the_last_error_and_keeps_it_in_the_audit_trail(receiver):
    from omnimall.core.actors import Actor
    from omnimall.core.models import AuditEntry

    receiver.default = (204, b"")
    subscribe(receiver.url)
    outbox.publish_webhook_event(topic="order.paid", data={}, dedupe_key="o1")
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxState.DEAD, attempts=12, last_error="HTTP 503: down", next_attempt_at=None
    )

    outbox.retry_messages(message_ids=[message.pk], actor=Actor.system())
    message.refresh_from_db()
    pending = (message.state, message.attempts, message.last_error)
    report = outbox.deliver_due()
    message.refresh_from_db()

    assert pending == (OutboxState.PENDING, 0, "")
    assert report.delivered == 1
    assert (message.state, message.attempts, message.last_error) == (
        OutboxState.DELIVERED,
        1,
        "",
    )
    entry = AuditEntry.objects.get(action="outbox_message.retried")
    assert entry.changes == {
        "state": ["dead", "pending"],
        "attempts": [12, 0],
        "last_error": ["HTTP 503: down", ""],
    }
