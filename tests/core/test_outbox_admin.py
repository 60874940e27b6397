"""The outbox and webhook subscriptions in the back office."""

from __future__ import annotations

import html as html_module
import re

import pytest
from django.contrib.auth.models import Group, User

from omnimall.core import outbox
from omnimall.core.models import AuditEntry, OutboxMessage, OutboxState, WebhookSubscription
from omnimall.core.roles import LOGISTICS

from .test_outbox_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    """The back office's texts are asserted in English (the site's default is zh-hans)."""
    settings.LANGUAGE_CODE = "en"


LIST = "/admin/core/outboxmessage/"
SUBSCRIPTIONS = "/admin/core/webhooksubscription/"


@pytest.fixture(autouse=True)
def _no_delivery_on_commit(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.OUTBOX_HTTP_TIMEOUT = 3


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def dead_letter(url: str = "http://127.0.0.1:1/hook", key: str = "o1") -> OutboxMessage:
    subscription, _ = WebhookSubscription.objects.get_or_create(
        name="ERP", defaults={"url": url, "secret": "x", "topics": ["*"]}
    )
    outbox.publish_webhook_event(topic="order.paid", data={"n": 1}, dedupe_key=key)
    message = OutboxMessage.objects.get(dedupe_key__endswith=f":{key}:{subscription.pk}")
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxState.DEAD, attempts=12, last_error="HTTP 500: boom"
    )
    message.refresh_from_db()
    return message


def test_outbox_changelist_shows_dead_letter_count_and_link(admin_client):
    dead_letter()
    outbox.send_email(to="a@example.com", subject="s", body="b", topic="order.paid", dedupe_key="e")

    page = admin_client.get(LIST)
    dead_page = admin_client.get(LIST + "?state__exact=dead")

    assert page.status_code == 200
    html = page.content.decode()
    assert "1 dead letter" in html
    assert "?state__exact=dead" in html
    assert "1 pending" in html
    assert dead_page.status_code == 200
    assert "<h1>Dead letters</h1>" in dead_page.content.decode()
    assert len(dead_page.context["cl"].result_list) == 1


@pytest.mark.parametrize(
    "query", ["?kind__exact=email", "?topic=order.paid", "?q=example.com", "?topic=%00bad"]
)
def test_outbox_changelist_filters_and_search_render(admin_client, query):
    dead_letter()

    assert admin_client.get(LIST + query).status_code == 200


def test_message_page_is_read_only_and_shows_payload_and_error(admin_client):
    message = dead_letter()

    page = admin_client.get(f"{LIST}{message.pk}/change/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "HTTP 500: boom" in html
    assert "&quot;order.paid&quot;" in html or '"order.paid"' in html
    assert 'name="_save"' not in html
    assert "Retry delivery" in html


def field_text(html: str, name: str) -> str:
    """The text of a read-only field of the message page."""
    found = re.search(rf'field-{name}.*?<div class="readonly">(.*?)</div>', html, re.S)
    return html_module.unescape(re.sub(r"<[^>]+>", "", found[1]).strip())


def test_message_delivered_after_its_webhook_moved_does_not_claim_the_old_url(
    admin_client, receiver
):
    old = "http://127.0.0.1:1/old-hook"
    WebhookSubscription.objects.create(name="ERP", url=old, secret="x", topics=["*"])
    outbox.publish_webhook_event(topic="order.paid", data={"n": 1}, dedupe_key="moved")
    WebhookSubscription.objects.update(url=receiver.url)
    assert outbox.deliver_due().delivered == 1  # posted to the new URL
    message = OutboxMessage.objects.get()

    page = admin_client.get(f"{LIST}{message.pk}/change/").content.decode()
    listing = admin_client.get(LIST).content.decode()

    assert field_text(page, "queued_for") == old
    assert "Queued for:" in page
    assert "Destination:" not in page
    delivery = field_text(page, "delivery_address")
    assert delivery.startswith("Not recorded")
    assert receiver.url in delivery
    assert "order.paid → ERP" in re.search(r"<title>(.*?)</title>", page, re.S)[1]
    assert old not in re.search(r'<div class="breadcrumbs">(.*?)</div>', page, re.S)[1]
    assert "Queued for" in listing


def test_delivered_message_marks_its_last_error_as_from_an_earlier_attempt(admin_client):
    message = dead_letter()
    OutboxMessage.objects.filter(pk=message.pk).update(state=OutboxState.DELIVERED)

    page = admin_client.get(f"{LIST}{message.pk}/change/").content.decode()

    error = field_text(page, "last_error_text")
    assert error.startswith("From an earlier attempt; a later one delivered the message.")
    assert "HTTP 500: boom" in error


def test_pending_webhook_says_where_its_next_attempt_goes(admin_client):
    message = dead_letter(url="http://127.0.0.1:1/old-hook")
    WebhookSubscription.objects.update(url="http://127.0.0.1:1/new-hook")

    page = admin_client.get(f"{LIST}{message.pk}/change/").content.decode()

    delivery = field_text(page, "delivery_address")
    assert delivery.startswith("The next attempt goes to the subscription's current URL")
    assert "http://127.0.0.1:1/new-hook" in delivery
    assert "changed since the message was queued" in delivery


def test_email_page_says_it_went_where_it_was_queued_for(admin_client):
    outbox.send_email(to="a@example.com", subject="s", body="b", topic="order.paid", dedupe_key="e")
    message = OutboxMessage.objects.get()

    page = admin_client.get(f"{LIST}{message.pk}/change/").content.decode()

    assert field_text(page, "queued_for") == "a@example.com"
    assert field_text(page, "delivery_address") == "The address it was queued for (above)."


def test_retry_action_requeues_dead_letters_and_audits(admin_client, receiver):
    message = dead_letter(url=receiver.url)
    WebhookSubscription.objects.update(url=receiver.url)

    response = admin_client.post(
        LIST, {"action": "retry_delivery", "_selected_action": [message.pk]}, follow=True
    )

    assert response.status_code == 200
    message.refresh_from_db()
    assert (message.state, message.attempts) == (OutboxState.PENDING, 0)
    entry = AuditEntry.objects.get(action="outbox_message.retried")
    assert entry.subject_id == str(message.pk)
    assert entry.actor_label == "admin"
    assert outbox.deliver_due().delivered == 1
    assert len(receiver.requests) == 1


def test_retry_button_on_message_page_requeues_it(admin_client):
    message = dead_letter()

    response = admin_client.post(f"{LIST}{message.pk}/retry/", follow=True)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == OutboxState.PENDING
    assert admin_client.get(f"{LIST}{message.pk}/retry/").status_code == 405


def test_logistics_staff_may_retry_but_not_delete(client):
    message = dead_letter()
    user = User.objects.create_user("lena", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name=LOGISTICS))
    client.force_login(user)

    page = client.get(LIST)
    client.post(LIST, {"action": "retry_delivery", "_selected_action": [message.pk]})

    assert page.status_code == 200
    assert "delete_selected" not in page.content.decode()
    message.refresh_from_db()
    assert message.state == OutboxState.PENDING


def test_subscription_created_in_admin_gets_a_generated_secret_shown_on_its_page(admin_client):
    response = admin_client.post(
        SUBSCRIPTIONS + "add/",
        {"name": "ERP", "url": "https://erp.example.com/hook", "topics": ["order.paid"],
         "secret": "", "is_active": "on"},
        follow=True,
    )  # fmt: skip

    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    assert re.fullmatch(r"[0-9a-f]{64}", subscription.secret)
    assert subscription.topics == ["order.paid"]
    page = admin_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/").content.decode()
    assert subscription.secret in page
    entry = AuditEntry.objects.get(action="webhooksubscription.created")
    assert subscription.secret not in str(entry.changes)


def test_subscription_edit_is_audited_with_reason(admin_client):
    subscription = WebhookSubscription.objects.create(
        name="ERP", url="https://erp.example.com/hook", secret="a" * 64, topics=["order.paid"]
    )

    admin_client.post(
        f"{SUBSCRIPTIONS}{subscription.pk}/change/",
        {"name": "ERP", "url": "https://erp.example.com/hook", "topics": ["*", "order.paid"],
         "secret": "a" * 64, "is_active": "on", "change_reason": "wants everything"},
    )  # fmt: skip

    subscription.refresh_from_db()
    assert subscription.topics == ["*"]
    entry = AuditEntry.objects.get(action="webhooksubscription.changed")
    assert entry.reason == "wants everything"
    assert entry.changes["topics"] == [["order.paid"], ["*"]]


def test_subscription_admin_refuses_unknown_topic(admin_client):
    response = admin_client.post(
        SUBSCRIPTIONS + "add/",
        {"name": "ERP", "url": "https://erp.example.com/hook", "topics": ["order.stolen"]},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["topics"]
    assert not WebhookSubscription.objects.exists()


def test_subscription_admin_refuses_a_url_that_is_not_http(admin_client):
    response = admin_client.post(
        SUBSCRIPTIONS + "add/",
        {"name": "ERP", "url": "ftp://erp.example.com/hook", "topics": ["order.paid"]},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"]
    assert not WebhookSubscription.objects.exists()


def test_send_test_event_action_delivers_a_signed_webhook_test(admin_client, receiver):
    subscription = WebhookSubscription.objects.create(
        name="ERP", url=receiver.url, secret="k" * 64, topics=["order.paid"]
    )

    admin_client.post(
        SUBSCRIPTIONS, {"action": "send_test_event", "_selected_action": [subscription.pk]}
    )
    report = outbox.deliver_due()

    assert report.delivered == 1
    (request,) = receiver.requests
    assert request.headers["X-Omnimall-Topic"] == "webhook.test"
    assert outbox.verify(
        secret="k" * 64, body=request.body, header=request.headers["X-Omnimall-Signature"]
    )
    assert AuditEntry.objects.filter(action="webhooksubscription.test_sent").exists()


def test_subscription_pages_render(admin_client):
    subscription = WebhookSubscription.objects.create(
        name="ERP", url="https://erp.example.com/hook", secret="x", topics=["*"]
    )
    dead_letter()

    assert admin_client.get(SUBSCRIPTIONS).status_code == 200
    assert admin_client.get(SUBSCRIPTIONS + "add/").status_code == 200
    assert admin_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/").status_code == 200
    assert admin_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/delete/").status_code == 200
    assert admin_client.get("/admin/core/").status_code == 200


def test_deleting_subscription_in_admin_is_audited_without_its_secret(admin_client):
    subscription = WebhookSubscription.objects.create(
        name="ERP", url="https://erp.example.com/hook", secret="d" * 64, topics=["*"]
    )

    admin_client.post(f"{SUBSCRIPTIONS}{subscription.pk}/delete/", {"post": "yes"})

    assert not WebhookSubscription.objects.exists()
    entry = AuditEntry.objects.get(action="webhooksubscription.deleted")
    assert "d" * 64 not in str(entry.changes)
