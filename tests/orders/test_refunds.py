"""Refunds of orders: the order's amounts and state, the payments ledger, the outbox.

Orders are built with the ORM and paid through the real payments services and the
sandbox gateway (start, the shopper pays, the signed notification is recorded), so the
payments ledger holds a real capture to refund from. ``paid_order`` is shared by the
returns and store-credit tests.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence
from decimal import Decimal

import pytest

from omnimall.core.actors import Actor
from omnimall.core.models import OutboxMessage
from omnimall.orders import domain
from omnimall.orders.models import (
    DeliveryMethod,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
)
from omnimall.orders.services import refunds, timeline
from omnimall.payments import services as payments
from omnimall.payments.gateways import sandbox, sandbox_bank
from omnimall.payments.models import EntryKind, Payment, PaymentEntry

STAFF = Actor(kind="user", id=None, label="cs-agent")
_numbers = itertools.count(1)


def paid_order(
    lines: Sequence[tuple[object, int, str]],
    *,
    state: str = domain.DELIVERED,
    shipping: str = "0.00",
    **fields: object,
) -> Order:
    """An order of ``lines`` ((sku, quantity, unit price)), paid through the sandbox and
    moved to ``state`` (a delivered / picked-up one gets its timeline event now)."""
    subtotal = sum((Decimal(price) * qty for _sku, qty, price in lines), Decimal("0.00"))
    total = subtotal + Decimal(shipping)
    order = Order.objects.create(
        number=f"261127{next(_numbers):06d}",
        guest_token=secrets.token_urlsafe(16),
        email="meimei@example.com",
        phone="13900139000",
        contact_name="韩梅梅",
        delivery_method=fields.pop("delivery_method", DeliveryMethod.SHIP),
        subtotal=subtotal,
        shipping=Decimal(shipping),
        total=total,
        **fields,
    )
    for sku, qty, price in lines:
        OrderLine.objects.create(
            order=order,
            sku=sku,
            sku_code=sku.code,
            product_name="T-shirt",
            unit_price=Decimal(price),
            quantity=qty,
            line_total=Decimal(price) * qty,
        )
    started = payments.start_payment(
        order_id=order.pk,
        amount=total,
        currency="CNY",
        subject=f"Order {order.number}",
        notify_url="http://testserver/payments/notify/sandbox/",
        return_url="/",
    )
    payment = Payment.objects.get(pk=started.payment_id)
    sandbox_bank.pay_trade(payment.trade_no)
    outcome = payments.record_notification(
        gateway="sandbox", params=sandbox.notification_for(payment.out_trade_no), remote_addr=None
    )
    assert outcome.outcome == "accepted", outcome
    Order.objects.filter(pk=order.pk).update(amount_paid=total, state=state)
    order.refresh_from_db()
    if state in (domain.DELIVERED, domain.PICKED_UP):
        timeline.add_event(order, kind=OrderEventKind.STATE, state_from="shipped", state_to=state)
    return order


@pytest.fixture
def sku(db):
    from tests.inventory.factories import make_skus

    return make_skus()[0]


@pytest.fixture(autouse=True)
def _no_delivery(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


def _payment_refunded(order: Order) -> Decimal:
    entries = PaymentEntry.objects.filter(payment__order=order, kind=EntryKind.REFUND)
    return -sum((e.amount for e in entries), Decimal("0.00"))


def test_refund_order_partial_moves_order_to_partly_refunded_and_posts_ledger(sku):
    order = paid_order([(sku, 2, "50.00")], shipping="10.00")

    refund = refunds.refund_order(
        order_id=order.pk, amount=Decimal("30.00"), reason="Late delivery", actor=STAFF
    )

    order.refresh_from_db()
    assert refund.refund_no == f"{order.number}-R1"
    assert refund.amount == Decimal("30.00")
    assert order.amount_refunded == Decimal("30.00")
    assert order.state == domain.PARTLY_REFUNDED
    assert _payment_refunded(order) == Decimal("30.00")
    assert Payment.objects.get(order=order).amount_refunded == Decimal("30.00")
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.REFUND)
    assert event.data["refund_no"] == refund.refund_no
    assert OrderEvent.objects.filter(
        order=order, kind=OrderEventKind.STATE, state_to=domain.PARTLY_REFUNDED
    ).exists()
    topics = set(OutboxMessage.objects.values_list("topic", flat=True))
    assert {"order.refunded"} <= topics


def test_refund_order_full_after_partial_moves_order_to_refunded(sku):
    order = paid_order([(sku, 1, "80.00")])
    refunds.refund_order(order_id=order.pk, amount=Decimal("20.00"), reason="a", actor=STAFF)

    second = refunds.refund_order(
        order_id=order.pk, amount=Decimal("60.00"), reason="b", actor=STAFF
    )

    order.refresh_from_db()
    assert second.refund_no == f"{order.number}-R2"
    assert order.amount_refunded == order.amount_paid == Decimal("80.00")
    assert order.state == domain.REFUNDED
    assert _payment_refunded(order) == Decimal("80.00")
    emails = OutboxMessage.objects.filter(topic="order.refunded", kind="email")
    assert emails.count() == 2  # one email per refund


def test_refund_order_refuses_when_amount_exceeds_paid_less_refunded(sku):
    order = paid_order([(sku, 1, "80.00")])
    refunds.refund_order(order_id=order.pk, amount=Decimal("50.00"), reason="a", actor=STAFF)

    with pytest.raises(refunds.RefundExceedsPaidError) as refused:
        refunds.refund_order(order_id=order.pk, amount=Decimal("30.01"), reason="b", actor=STAFF)

    assert refused.value.code == "refund_exceeds_paid"
    assert refused.value.status == 409
    order.refresh_from_db()
    assert order.amount_refunded == Decimal("50.00")
    assert order.state == domain.PARTLY_REFUNDED
    assert _payment_refunded(order) == Decimal("50.00")


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        (Decimal("0"), "x"),
        (Decimal("-1"), "x"),
        (Decimal("1.001"), "x"),
        (1.5, "x"),
        (Decimal(1), " "),
    ],
)
def test_refund_order_refuses_bad_amount_or_missing_reason(sku, amount, reason):
    order = paid_order([(sku, 1, "80.00")])

    with pytest.raises(refunds.InvalidRefundError):
        refunds.refund_order(order_id=order.pk, amount=amount, reason=reason, actor=STAFF)

    assert not PaymentEntry.objects.filter(kind=EntryKind.REFUND).exists()


def test_refund_order_is_idempotent_by_refund_no(sku):
    order = paid_order([(sku, 2, "40.00")])
    first = refunds.refund_order(
        order_id=order.pk, amount=Decimal("40.00"), reason="r", actor=STAFF, refund_no="CS-77"
    )

    again = refunds.refund_order(
        order_id=order.pk, amount=Decimal("40.00"), reason="r", actor=STAFF, refund_no="CS-77"
    )

    order.refresh_from_db()
    assert again.replayed
    assert not first.replayed
    assert again.refund_id == first.refund_id
    assert order.amount_refunded == Decimal("40.00")
    assert _payment_refunded(order) == Decimal("40.00")
    assert OrderEvent.objects.filter(order=order, kind=OrderEventKind.REFUND).count() == 1
    with pytest.raises(refunds.RefundNumberReusedError):
        refunds.refund_order(
            order_id=order.pk, amount=Decimal("10.00"), reason="r", actor=STAFF, refund_no="CS-77"
        )


def test_refund_order_keeps_a_cancelled_order_cancelled_and_notes_it(sku):
    order = paid_order([(sku, 1, "80.00")], state=domain.CANCELLED)

    refund = refunds.refund_order(
        order_id=order.pk, amount=Decimal("80.00"), reason="Cancelled by staff", actor=STAFF
    )

    order.refresh_from_db()
    assert refund.state == order.state == domain.CANCELLED
    assert order.amount_refunded == Decimal("80.00")
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.REFUND)
    assert "stays cancelled" in event.message


def test_refund_order_refuses_an_unpaid_order_and_writes_nothing(sku):
    order = paid_order([(sku, 1, "80.00")])
    Order.objects.filter(pk=order.pk).update(amount_paid=Decimal("0.00"))

    with pytest.raises(refunds.RefundExceedsPaidError):
        refunds.refund_order(order_id=order.pk, amount=Decimal("1.00"), reason="r", actor=STAFF)

    assert not OrderEvent.objects.filter(order=order, kind=OrderEventKind.REFUND).exists()
    assert _payment_refunded(order) == Decimal("0.00")
