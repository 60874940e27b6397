"""How long a pick-up waits at its store, and keeping it longer (延长取货).

A pick-up put aside gets a deadline, ``Order.collect_by``: ``PICKUP_UNCOLLECTED_DAYS`` after
it is ready. Not collected by then, the hourly sweep cancels and refunds it
(``cancellation.cancel_uncollected_pickups``); ``PICKUP_REMINDER_DAYS`` before it the
shopper is reminded (``pickup_reminders``).

A shopper who cannot come in time keeps it ``PICKUP_EXTENSION_DAYS`` longer, once, from the
order page or the Store API: asking again changes nothing (a retried request is harmless).
Customer service or the store's staff, for a shopper who calls the shop or the store, keep
it until the end of a later day in the back office, at most ``MAX_KEEP_DAYS`` ahead: a
shelf is not a warehouse.

Either way the order's stock holds are kept past the new deadline (a hold that lapsed with
the goods on the shelf would let the units be sold twice), the reminder is due again
before the new deadline, and the timeline, the audit trail, the shopper (an email with the
new date) and subscribers (``order.pickup_kept``) hear of it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.inventory import services as inventory
from omnimall.orders import domain
from omnimall.orders.errors import InvalidCollectByError, PickupNotKeptLongerError
from omnimall.orders.models import Order, OrderAllocation, OrderEventKind
from omnimall.orders.texts import text

from . import messages, texts_to_shoppers
from .timeline import add_event, lock_order

MAX_KEEP_DAYS = 30
# Holds outlive the deadline by this much: the hourly sweep cancels the order (and releases
# them) first.
HOLD_PAST_DEADLINE = timedelta(days=1)
TEMPLATE = "pickup_kept"


def deadline_after(ready_at: datetime) -> datetime:
    """The deadline a pick-up put aside at ``ready_at`` gets."""
    return ready_at + timedelta(days=settings.PICKUP_UNCOLLECTED_DAYS)


def local_deadline(collect_by: datetime) -> str:
    """The deadline as the store and the shopper read it: in the shop's ``TIME_ZONE``."""
    return f"{timezone.localtime(collect_by):%Y-%m-%d %H:%M}"


def text_collector(order: Order) -> bool:
    """Text whoever the shopper sent to collect the order (``collector``) the store, the
    code and the deadline, once per collector and deadline; False when nobody else
    collects it, or it is not put aside yet."""
    if not order.collector_phone or order.collect_by is None:
        return False
    return texts_to_shoppers.text_shopper(
        order,
        moment="pickup_collector",
        extra={"deadline": local_deadline(order.collect_by)},
        phone=order.collector_phone,
        dedupe_suffix=f"{order.collector_phone}:{order.collect_by.isoformat()}",
    )


def keep_holds(order: Order, *, until: datetime) -> int:
    """Keep the order's live holds until ``until`` at least; how many were extended."""
    short = OrderAllocation.objects.filter(
        line__order=order,
        is_live=True,
        reservation__isnull=False,
        reservation__expires_at__lt=until,
    ).values_list("reservation_id", flat=True)
    return inventory.extend_holds(reservation_ids=list(short), until=until)


def _waiting(order: Order, now: datetime) -> datetime:
    """The order's deadline; refused unless it waits at its store before that deadline."""
    if order.state != domain.READY_FOR_PICKUP or order.collect_by is None:
        raise PickupNotKeptLongerError(number=order.number, state=order.state, reason="not_waiting")
    if order.collect_by <= now:
        raise PickupNotKeptLongerError(
            "This pick-up's time to collect it is over.",
            number=order.number,
            reason="not_waiting",
        )
    return order.collect_by


def keep_longer(*, order_id: int, actor: Actor) -> Order:
    """The shopper keeps their pick-up ``PICKUP_EXTENSION_DAYS`` longer, once; the order.

    Asked again, the order is returned as it is. 409 ``pickup_not_extendable`` when it is
    not waiting at its store (or its deadline passed), or the shop leaves this to stores."""
    now = clock.now()
    with transaction.atomic():
        order = lock_order(order_id)
        if order.pickup_extended_at is not None and order.state == domain.READY_FOR_PICKUP:
            return order
        if settings.PICKUP_EXTENSION_DAYS <= 0:
            raise PickupNotKeptLongerError(
                "Ask the store to keep this pick-up longer.", number=order.number, reason="off"
            )
        deadline = _waiting(order, now)
        order.pickup_extended_at = now
        _keep(
            order,
            until=deadline + timedelta(days=settings.PICKUP_EXTENSION_DAYS),
            actor=actor,
            fields=["pickup_extended_at"],
        )
    return order


def keep_until(*, order_id: int, day: date, actor: Actor) -> Order:
    """Staff keep a waiting pick-up until the end of ``day`` (in the shop's time zone); the
    order. The same day again changes nothing; 422 ``invalid_collect_by`` for a day not
    after the present deadline's, or more than ``MAX_KEEP_DAYS`` ahead."""
    now = clock.now()
    until = timezone.make_aware(datetime.combine(day, time(23, 59)))
    with transaction.atomic():
        order = lock_order(order_id)
        deadline = _waiting(order, now)
        if until == deadline:
            return order
        latest = timezone.localdate(now) + timedelta(days=MAX_KEEP_DAYS)
        if until < deadline or day > latest:
            raise InvalidCollectByError(
                collect_by=local_deadline(deadline), latest=latest.isoformat()
            )
        _keep(order, until=until, actor=actor, fields=[])
    return order


def _keep(order: Order, *, until: datetime, actor: Actor, fields: list[str]) -> None:
    before = order.collect_by
    order.collect_by = until
    order.pickup_reminded_at = None  # due again before the new deadline
    order.save(update_fields=[*fields, "collect_by", "pickup_reminded_at", "updated_at"])
    kept = keep_holds(order, until=until + HOLD_PAST_DEADLINE)
    shown = local_deadline(until)
    add_event(
        order,
        kind=OrderEventKind.FULFILMENT,
        message=text(gettext_noop("kept at the store until %(deadline)s"), deadline=shown),
        actor=actor,
        data={
            "collect_by": [before.isoformat() if before else "", until.isoformat()],
            "holds_extended": kept,
        },
    )
    audit.record(
        actor=actor,
        action="order.pickup_kept",
        subject=order,
        changes={"collect_by": [before.isoformat() if before else "", until.isoformat()]},
    )
    messages.email_shopper(
        order,
        template=TEMPLATE,
        dedupe_suffix=until.isoformat(),
        extra={"deadline": shown, "time_zone": settings.TIME_ZONE},
    )
    messages.publish_order_event(
        order, topic="order.pickup_kept", extra={"collect_by": until.isoformat()}
    )
    text_collector(order)  # whoever collects it needs the new date too
