"""Payments test data: an order row (made directly: the orders app is not under test),
a started sandbox payment, and notifications the sandbox signs."""

from __future__ import annotations

import itertools
import secrets
from decimal import Decimal

from django.db.models import Sum

from omnimall.core.actors import Actor
from omnimall.orders.models import DeliveryMethod, Order
from omnimall.payments import services as payments
from omnimall.payments.gateways import sandbox
from omnimall.payments.models import Payment, PaymentEntry, SandboxTrade

STAFF = Actor(kind="user", id=None, label="refund-desk")
NOTIFY_URL = "http://testserver/payments/notify/sandbox/"
_numbers = itertools.count(1)


def make_order(total: str = "100.00") -> Order:
    n = next(_numbers)
    return Order.objects.create(
        number=f"261127{n:06d}",
        guest_token=secrets.token_urlsafe(24),
        email=f"shopper{n}@example.com",
        phone="+8613800138000",
        contact_name="Li Lei",
        delivery_method=DeliveryMethod.SHIP,
        subtotal=Decimal(total),
        total=Decimal(total),
    )


def start_payment(order: Order | None = None, amount: str = "100.00"):
    order = order or make_order(amount)
    return payments.start_payment(
        order_id=order.pk,
        amount=Decimal(amount),
        currency="CNY",
        subject=f"omnimall order {order.number}",
        notify_url=NOTIFY_URL,
        return_url=f"/account/orders/{order.number}/?token={order.guest_token}",
    )


def gateway_pays(out_trade_no: str) -> None:
    """The shopper paid on the bank's side (the sandbox trade succeeds)."""
    from omnimall.core import clock

    SandboxTrade.objects.filter(out_trade_no=out_trade_no).update(
        status="TRADE_SUCCESS", paid_at=clock.now()
    )


def resign(params: dict[str, str], **changes: str) -> dict[str, str]:
    """``params`` with ``changes`` applied and signed again by the gateway's own key."""
    fresh = {**params, **changes}
    fresh.pop("sign", None)
    fresh["sign"] = sandbox.sign(fresh)
    return fresh


def notify(params, remote_addr: str | None = "203.0.113.7"):
    return payments.record_notification(gateway="sandbox", params=params, remote_addr=remote_addr)


def paid_payment(amount: str = "100.00") -> Payment:
    """A payment captured through a genuine notification."""
    started = start_payment(amount=amount)
    gateway_pays(started.out_trade_no)
    result = notify(sandbox.notification_for(started.out_trade_no))
    assert result.newly_captured
    return Payment.objects.get(pk=started.payment_id)


def assert_ledger_matches_cache() -> None:
    """Every payment's cached totals equal the sums of its ledger entries."""
    for payment in Payment.objects.all():
        captured = PaymentEntry.objects.filter(payment=payment, kind="capture").aggregate(
            s=Sum("amount")
        )["s"] or Decimal("0")
        refunded = PaymentEntry.objects.filter(payment=payment, kind="refund").aggregate(
            s=Sum("amount")
        )["s"] or Decimal("0")
        assert payment.amount_captured == captured, payment
        assert payment.amount_refunded == -refunded, payment
