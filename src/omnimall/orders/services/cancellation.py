"""Cancelling orders: by the shopper before paying or before anyone prepares it, by staff
until something has left.

Before an unpaid order is cancelled the gateway payment is closed, so the shopper cannot
pay it afterwards; if the gateway says it was paid meanwhile, the payment is settled
instead and the cancel is refused (409). A paid order the shopper cancels must not have
been taken on by a warehouse or store (``domain.SHOPPER_CANCELLABLE_PAID``): the order's
fulfilment requests are locked and checked in the cancelling transaction, so an
``accept`` arriving meanwhile waits and then finds the request cancelled.

Cancelling releases the order's holds (through its fulfilment requests when it has them)
and refunds whatever was paid; points held for an unpaid order go back to the member,
points spent on a paid one are restored by the refund (``points.settle_refund``).

``expire_unpaid_orders`` and ``cancel_uncollected_pickups`` are the periodic sweeps.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_noop

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders import domain
from omnimall.orders.errors import (
    InvalidCancelReasonError,
    OrderAlreadyPaidError,
    OrderBeingPreparedError,
    OrderNotFoundError,
    OrderTransitionError,
)
from omnimall.orders.models import (
    SHOPPER_CANCEL_REASONS,
    CancelReason,
    Order,
)
from omnimall.orders.texts import Text, text

from . import collect_by, messages
from . import points as order_points
from .fulfilment import live_requests, release_holds
from .payment import close_open_payments
from .timeline import lock_order, transition

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("orders")


def _cancel_reason(why: str, *, by_shopper: bool) -> str:
    """The order's ``cancel_reason``: ``why`` when given (a shopper may give only theirs:
    422 ``invalid_cancel_reason``), else "the shopper did not say" or "by staff"."""
    allowed = SHOPPER_CANCEL_REASONS if by_shopper else CancelReason.values
    if not why:
        return CancelReason.NOT_SAID if by_shopper else CancelReason.BY_STAFF
    if why not in allowed:
        raise InvalidCancelReasonError(allowed=[str(value) for value in allowed])
    return why


class KeptLongerError(OrderTransitionError):
    code = "pickup_kept_longer"
    message = "The pick-up was kept longer meanwhile: it is not yet uncollected."


def cancel_order(
    *,
    order_id: int,
    actor: Actor,
    reason: str | Text,
    by_shopper: bool,
    why: str = "",
    uncollected_at: datetime | None = None,
) -> None:
    """Cancel ``order_id``: holds released, payment closed or refunded, shopper told.

    ``reason``: what a person typed, a fixed text (``gettext_noop``), or a ``Text`` the
    system writes (kept whole on the timeline; the rest of the trail gets its English).
    ``why``: a ``CancelReason`` (a shopper's answer, or how the shop cancelled it), kept on
    the order for "why do shoppers cancel?". ``uncollected_at``: the uncollected sweep's
    time; a pick-up kept longer since the sweep found it is refused (``KeptLongerError``)."""
    cancel_reason = _cancel_reason(why, by_shopper=by_shopper)
    allowed = (
        domain.shopper_cancellable(paid_allowed=settings.SHOPPER_CANCEL_PAID)
        if by_shopper
        else domain.STAFF_CANCELLABLE
    )
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise OrderNotFoundError(order_id=order_id)
    if order.state == domain.PENDING_PAYMENT and close_open_payments(order):
        # No network call under the order lock: the gateway is asked first.
        raise OrderAlreadyPaidError(number=order.number, state=domain.PAID)
    if not isinstance(reason, Text):
        reason = (reason or "").strip()[:500] or text(gettext_noop("cancelled"))
    plain = str(reason)
    with transaction.atomic():
        order = lock_order(order_id)
        if order.state not in allowed:
            raise OrderTransitionError(
                "The order cannot be cancelled in its current state.",
                number=order.number,
                state=order.state,
                target=domain.CANCELLED,
            )
        if uncollected_at is not None and (
            order.collect_by is None or order.collect_by > uncollected_at
        ):
            raise KeptLongerError(number=order.number)
        if by_shopper and order.state in domain.SHOPPER_CANCELLABLE_PAID:
            taken_on = inventory_fulfilment.lock_taken_on(live_requests(order))
            if taken_on:
                raise OrderBeingPreparedError(number=order.number, requests=taken_on)
        release_holds(order, actor=actor, reason=plain)
        if order.state == domain.PENDING_PAYMENT:
            # Unpaid: the points hold goes back. Paid: the refund below restores them.
            order_points.release_for_order(order, actor=actor, reason=plain)
        order.cancel_reason = cancel_reason
        transition(
            order, domain.CANCELLED, actor=actor, message=reason, extra_fields=("cancel_reason",)
        )
        audit.record(
            actor=actor,
            action="order.cancelled",
            subject=order,
            changes={"cancel_reason": ["", cancel_reason]},
            reason=plain,
        )
        messages.email_shopper(order, template="cancelled", extra={"reason": plain})
        messages.publish_order_event(order, topic="order.cancelled")
        outstanding = order.amount_paid - order.amount_refunded
        if outstanding > Decimal("0"):
            from . import refunds

            refunds.refund_order(
                order_id=order.pk,
                amount=outstanding,
                reason=text(gettext_noop("cancelled: %(reason)s"), reason=reason),
                actor=actor,
                refund_no=f"{order.number}-cancel",
            )


def expire_unpaid_orders(*, now: datetime | None = None, limit: int = 200) -> int:
    """Unpaid orders past their hold: settled if the gateway says paid, else cancelled."""
    now = now or clock.now()
    due = list(
        Order.objects.filter(state=domain.PENDING_PAYMENT, reserved_until__lte=now)
        .order_by("reserved_until", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    cancelled = 0
    for order_id in due:
        try:
            cancel_order(
                order_id=order_id,
                actor=SYSTEM,
                reason=text(gettext_noop("payment timed out")),
                by_shopper=False,
                why=CancelReason.NOT_PAID,
            )
            cancelled += 1
        except OrderAlreadyPaidError:
            continue
        except DomainError:
            logger.exception("expiring order %s failed", order_id)
    return cancelled


def cancel_uncollected_pickups(*, now: datetime | None = None, limit: int = 200) -> int:
    """Pick-ups not collected by their ``collect_by``: cancelled, stock released, refunded
    in full."""
    now = now or clock.now()
    due = list(
        Order.objects.filter(state=domain.READY_FOR_PICKUP, collect_by__lte=now)
        .order_by("collect_by", "pk")
        .values_list("pk", "collect_by")[:limit]
    )
    cancelled = 0
    for order_id, deadline in due:
        try:
            cancel_order(
                order_id=order_id,
                actor=SYSTEM,
                reason=text(
                    gettext_noop("not collected by %(deadline)s"),
                    deadline=collect_by.local_deadline(deadline) if deadline else "",
                ),
                by_shopper=False,
                why=CancelReason.NOT_COLLECTED,
                uncollected_at=now,
            )
            cancelled += 1
        except KeptLongerError:
            continue
        except DomainError:
            logger.exception("cancelling uncollected order %s failed", order_id)
    return cancelled
