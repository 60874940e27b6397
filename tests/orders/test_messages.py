"""Webhooks and emails an order sends through the outbox."""

from __future__ import annotations

import pytest
from django.core import mail

from omnimall.core import outbox
from omnimall.core.models import OutboxMessage, WebhookSubscription
from omnimall.orders.services import fulfilment
from tests.orders.factories import ACTOR, make_shipped_order

pytestmark = pytest.mark.django_db


def test_order_webhooks_and_shipped_email(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    WebhookSubscription.objects.create(
        name="erp", url="https://erp.example.com/hooks", secret="s3cret", topics=["*"]
    )

    order = make_shipped_order()
    fulfilment.confirm_delivery(order_id=order.pk, actor=ACTOR)

    webhooks = OutboxMessage.objects.filter(kind="webhook")
    topics = sorted(webhooks.values_list("topic", flat=True))
    assert topics == ["order.delivered", "order.paid", "order.shipped"]
    paid = webhooks.get(topic="order.paid").payload
    body = paid.get("body", paid)
    data = body.get("data", body)
    assert data["number"] == order.number
    assert len(data["lines"]) == 2
    mail.outbox.clear()
    outbox.deliver_due()
    shipped = [m for m in mail.outbox if "shipped" in m.subject]
    assert len(shipped) == 1
    assert "SF100" in shipped[0].body
    assert f"?token={order.guest_token}" in shipped[0].body
