"""Refunds of orders: money back through the payment gateway, on the order's books.

``refund_order`` locks the order, refuses more than was paid and not yet refunded,
refunds through ``payments.refund_payment`` (the gateway protocol and the payments
ledger), raises ``Order.amount_refunded`` with a conditional update, writes a ``refund``
event on the timeline and moves the order to ``refunded`` / ``partly_refunded`` when the
state machine allows it from where the order is (a cancelled or not yet delivered order
keeps its state; the timeline notes the refund). The shopper gets the "refunded" email
and subscribers the ``order.refunded`` webhook, both through the outbox in the same
transaction.

Refunds are money (what goes back through the gateway). On an order paid partly with
points, each refund also restores the matching share of the spent points and reverses
the matching share of the points earned (``points.settle_refund``, cumulative: refunding
everything paid gives back every point spent).

Idempotent by ``refund_no``: a repeated call with the same number returns the first
refund and changes nothing (the same number with another amount is refused). Without a
number, each call is a new refund numbered ``<order number>-R<n>``.

The gateway call happens under the order's lock: the sandbox gateway answers in-process;
a remote gateway's refund is a short synchronous call, and holding the lock keeps two
staff members from refunding the same money at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_noop

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.core.errors import ConflictError, ValidationFailedError
from omnimall.core.money import quantize
from omnimall.orders import domain
from omnimall.orders.models import Order, OrderEvent, OrderEventKind
from omnimall.orders.texts import Text, state_text, text
from omnimall.payments import services as payments

from . import messages, timeline
from . import points as order_points

MAX_REASON = 200  # what the payments ledger keeps


class RefundExceedsPaidError(ConflictError):
    code = "refund_exceeds_paid"
    message = "The refund is more than what was paid and not yet refunded."


class InvalidRefundError(ValidationFailedError):
    code = "invalid_refund"
    message = "A refund needs a positive amount (in cents at most) and a reason."


class RefundNumberReusedError(ConflictError):
    code = "refund_no_reused"
    message = "This refund number was already used for another refund."


class RefundFailedError(ConflictError):
    code = "refund_failed"
    message = "The payment gateway refused the refund."


@dataclass(frozen=True, slots=True)
class Refund:
    """One refund of an order, as recorded (``replayed``: an earlier call's result)."""

    order_id: int
    number: str  # the order's number
    refund_no: str
    refund_id: int | None  # the payments app's refund
    amount: Decimal
    amount_refunded: Decimal  # the order's total refunded after this refund
    state: str  # the order's state after this refund
    replayed: bool = False


def clean_amount(amount: object) -> Decimal:
    """A positive Decimal amount in whole cents, or ``InvalidRefundError``."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise InvalidRefundError(amount=str(amount)[:40])
    value = Decimal(amount)
    if not value.is_finite() or value <= 0 or quantize(value) != value:
        raise InvalidRefundError(amount=str(amount)[:40])
    return quantize(value)


def clean_reason(reason: object) -> str | Text:
    """What a person typed: stripped, cut to ``MAX_REASON``. A ``Text`` (a reason the
    system writes) is kept whole for the timeline; the ledger gets it cut (``_plain``)."""
    if isinstance(reason, Text):
        return reason
    typed = reason.strip() if isinstance(reason, str) else ""
    if not typed:
        raise InvalidRefundError("A refund needs a reason.", reason="")
    return typed[:MAX_REASON]


def _plain(reason: str | Text) -> str:
    return str(reason)[:MAX_REASON]


def refund_order(
    *,
    order_id: int,
    amount: Decimal,
    reason: str | Text,
    actor: Actor,
    refund_no: str | None = None,
) -> Refund:
    """Refund ``amount`` of a paid order through its payment (see the module notes)."""
    value = clean_amount(amount)
    why = clean_reason(reason)
    number = (refund_no or "").strip()[:64]
    with transaction.atomic():
        order = timeline.lock_order(order_id)
        return refund_locked(order, amount=value, reason=why, actor=actor, refund_no=number)


def _earlier(order: Order, refund_no: str) -> OrderEvent | None:
    return (
        OrderEvent.objects.filter(
            order_id=order.pk, kind=OrderEventKind.REFUND, data__refund_no=refund_no
        )
        .order_by("id")
        .first()
    )


def _next_refund_no(order: Order) -> str:
    done = OrderEvent.objects.filter(order_id=order.pk, kind=OrderEventKind.REFUND).count()
    n = done + 1
    while _earlier(order, f"{order.number}-R{n}") is not None:
        n += 1
    return f"{order.number}-R{n}"


def _replay(order: Order, event: OrderEvent, amount: Decimal) -> Refund:
    first = Decimal(str(event.data.get("amount", "0")))
    if first != amount:
        raise RefundNumberReusedError(
            refund_no=str(event.data.get("refund_no", "")), amount=str(first)
        )
    return Refund(
        order_id=order.pk,
        number=order.number,
        refund_no=str(event.data.get("refund_no", "")),
        refund_id=event.data.get("refund_id"),
        amount=first,
        amount_refunded=order.amount_refunded,
        state=order.state,
        replayed=True,
    )


def _book(order: Order, amount: Decimal) -> None:
    """Raise the order's refunded amount, never past what was paid (the row is locked)."""
    matched = Order.objects.filter(
        pk=order.pk, amount_paid__gte=F("amount_refunded") + amount
    ).update(amount_refunded=F("amount_refunded") + amount, updated_at=clock.now())
    if matched != 1:
        raise RefundExceedsPaidError(number=order.number, amount=str(amount))
    order.refresh_from_db(fields=["amount_refunded", "updated_at"])


def refund_locked(
    order: Order,
    *,
    amount: Decimal,
    reason: str | Text,
    actor: Actor,
    refund_no: str = "",
    target: str | None = None,
    data: dict[str, object] | None = None,
) -> Refund:
    """The refund of an order already locked by the caller's transaction.

    ``amount`` and ``reason`` are clean (``clean_amount`` / ``clean_reason``). ``target``:
    the state to move to (default ``domain.refund_state``); the move happens only when the
    state machine allows it. Returns also support this (``refund_return``).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("refund_locked needs a transaction")
    if refund_no:
        earlier = _earlier(order, refund_no)
        if earlier is not None:
            return _replay(order, earlier, amount)
    else:
        refund_no = _next_refund_no(order)
    refundable = order.amount_paid - order.amount_refunded
    if amount > refundable:
        raise RefundExceedsPaidError(
            number=order.number, amount=str(amount), refundable=str(refundable)
        )
    result = payments.refund_payment(
        order_id=order.pk, amount=amount, reason=_plain(reason), refund_no=refund_no, actor=actor
    )
    if not result.succeeded:
        raise RefundFailedError(number=order.number, refund_no=refund_no)
    before = order.amount_refunded
    _book(order, amount)
    # Points paid with come back, points earned go, in proportion to the money refunded.
    settled = order_points.settle_refund(
        order, refund_no=refund_no, before=before, after=order.amount_refunded, actor=actor
    )
    goal = target or domain.refund_state(paid=order.amount_paid, refunded=order.amount_refunded)
    moves = goal != order.state and domain.can_transition(order.state, goal)
    figures = {"amount": amount, "currency": order.currency, "reason": reason}
    message = (
        text(gettext_noop("Refunded %(amount)s %(currency)s: %(reason)s."), **figures)
        if moves or goal == order.state
        else text(
            gettext_noop(
                "Refunded %(amount)s %(currency)s: %(reason)s. The order stays %(state)s."
            ),
            state=state_text(order.state),
            **figures,
        )
    )
    timeline.add_event(
        order,
        kind=OrderEventKind.REFUND,
        message=message,
        actor=actor,
        data={
            **(data or {}),
            "refund_no": refund_no,
            "refund_id": result.refund_id,
            "amount": str(amount),
            "amount_refunded": str(order.amount_refunded),
            **({f"points_{k}": v for k, v in settled.items()} if settled else {}),
        },
    )
    if moves:
        timeline.transition(order, goal, actor=actor, message=reason)
    audit.record(
        actor=actor,
        action="order.refunded",
        subject=order,
        changes={
            "amount_refunded": [str(before), str(order.amount_refunded)],
            "refund_no": refund_no,
        },
        reason=_plain(reason),
    )
    # One email and one webhook per refund (a second partial refund is news too).
    messages.email_shopper(
        order, template="refunded", dedupe_suffix=refund_no, extra={"amount": amount}
    )
    messages.publish_order_event(order, topic="order.refunded", n=refund_no)
    return Refund(
        order_id=order.pk,
        number=order.number,
        refund_no=refund_no,
        refund_id=result.refund_id,
        amount=amount,
        amount_refunded=order.amount_refunded,
        state=order.state,
    )
