"""Online orders and the members' points ledger.

Points are a payment method at checkout for a signed-in shopper whose account is a
member (``members.selectors.members.member_for_user``):

- **placement** (``member_paying`` then ``hold_for_order``, in the placement
  transaction): at most ``max_points_for(total)`` (``POINTS_MAX_SHARE`` of the order, 422
  ``points_over_limit``) and at most what the member has (409 ``insufficient_points``) are
  held under ``order:<number>:hold``; the order records ``points_used`` /
  ``points_value`` and the gateway is asked for ``total − points_value``. The hold's id
  and member are kept on the "placed" timeline event.
- **paid** (``settle_paid``, in the capture transaction): the hold is committed
  (``order:<number>:spend``); if it lapsed or was released, the points are spent anew;
  if that is impossible the order needs attention (a problem event). Then the member
  earns, *pending*, on what was paid in money (``points_for_lines(points_value=…)``,
  ``order:<number>:earn``) and the purchase counts toward the tier
  (``order:<number>:purchase``, amount = total). One "points" payment event records who
  and how much (``POINTS_EVENT``): refunds read it.
- **completed** (``settle_completed``): what is still pending becomes available
  (``order:<number>:mature``).
- **cancelled unpaid** (``release_for_order``): the hold goes back.
- **refunds** (``settle_refund``, called by ``refunds.refund_locked`` for every refund —
  returns, staff refunds, a cancel after payment): refunds are money; for the money
  refunded so far the matching share of the spent points is restored and the matching
  share of the earn reversed, cumulatively (``orders.split``), so a full refund gives
  back exactly what was spent and takes back exactly what was earned; a negative
  purchase lowers the tier spend. Each under ``order:<number>:refund:<refund no>:…``.

Every ledger write carries a unique source key, so a retried payment notification, a
repeated sweep or a replayed refund posts nothing twice. Guest orders and orders without
points make no query here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from omnimall.core.actors import Actor
from omnimall.core.errors import ConflictError, DomainError, ValidationFailedError
from omnimall.members.domain import max_points_for, points_value
from omnimall.members.models import HoldPurpose, PointsEntryKind, PurchaseChannel
from omnimall.members.selectors.members import member_for_user
from omnimall.members.services import points as ledger
from omnimall.members.services.earning import points_for_lines
from omnimall.members.services.purchases import record_purchase
from omnimall.orders import domain, split
from omnimall.orders.models import Order, OrderEvent, OrderEventKind, OrderLine
from omnimall.orders.texts import text

from .timeline import add_event

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("points")
POINTS_EVENT = gettext_noop("points settled")  # also how refunds find the event
# A checkout hold outlives the stock hold a little: the order's own cancellation releases
# it; the ledger's sweeper only catches a hold an order somehow left behind.
HOLD_GRACE = timedelta(hours=1)
HOLD_NOT_HELD = "points_hold_not_held"


class PointsNeedMemberError(ValidationFailedError):
    code = "points_need_member"
    message = "Only a signed-in member can pay with points."


class PointsOverLimitError(ValidationFailedError):
    code = "points_over_limit"
    message = "At most a share of the order can be paid with points."


class NotEnoughPointsError(ConflictError):
    code = "insufficient_points"
    message = "The member does not have that many points available."


class InvalidPointsError(ValidationFailedError):
    code = "invalid_points"
    message = "Points are a whole number, 0 or more."


# --- arithmetic on settings --------------------------------------------------------------


def points_per_cny() -> int:
    return int(settings.POINTS_PER_CNY_VALUE)


def limit_for(total: Decimal) -> int:
    """The most points an order of ``total`` may be paid with."""
    return max_points_for(
        total,
        points_per_cny=points_per_cny(),
        max_share=Decimal(str(settings.POINTS_MAX_SHARE)),
    )


def value_of(points: int) -> Decimal:
    return points_value(points, points_per_cny=points_per_cny())


def clean_points(points: object) -> int:
    if points is None or points == "":
        return 0
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise InvalidPointsError(points=str(points)[:20])
    return points


@dataclass(frozen=True, slots=True)
class PointsOffer:
    """What a member may pay an order with (the checkout page shows it)."""

    member_id: int
    available: int
    limit: int  # the order's maximum
    usable: int  # min(available, limit)
    usable_value: Decimal


def offer_for(*, user_id: int | None, total: Decimal) -> PointsOffer | None:
    """The signed-in shopper's points offer for an order of ``total``; None for a guest
    (no query) or a shopper who is not a member."""
    if user_id is None:
        return None
    member = member_for_user(user_id)
    if member is None:
        return None
    limit = limit_for(total)
    usable = max(min(member.points_available, limit), 0)
    return PointsOffer(
        member_id=member.pk,
        available=member.points_available,
        limit=limit,
        usable=usable,
        usable_value=value_of(usable),
    )


def member_paying(*, user_id: int | None, points: int, total: Decimal) -> int | None:
    """The member paying ``points`` for an order of ``total``, checked; None when no
    points are used (and then no query)."""
    points = clean_points(points)
    if points == 0:
        return None
    offer = offer_for(user_id=user_id, total=total)
    if offer is None:
        raise PointsNeedMemberError()
    if points > offer.limit:
        raise PointsOverLimitError(points=points, maximum=offer.limit)
    if points > offer.available:
        raise NotEnoughPointsError(points=points, available=offer.available)
    return offer.member_id


# --- placement ---------------------------------------------------------------------------


def hold_for_order(order: Order, *, member_id: int, points: int) -> int:
    """Hold the points of a new order (inside the placement transaction); the hold id."""
    expires = order.reserved_until + HOLD_GRACE if order.reserved_until else None
    hold = ledger.hold_points(
        member_id=member_id,
        points=points,
        source_key=f"order:{order.number}:hold",
        purpose=HoldPurpose.CHECKOUT,
        reference=order.number,
        actor=SYSTEM,
        expires_at=expires,
    )
    return int(hold.pk)


def _placed_data(order: Order) -> dict[str, Any]:
    data = (
        OrderEvent.objects.filter(
            order_id=order.pk, kind=OrderEventKind.STATE, state_to=domain.PENDING_PAYMENT
        )
        .order_by("id")
        .values_list("data", flat=True)
        .first()
    )
    return data if isinstance(data, dict) else {}


def _settled_data(order: Order) -> dict[str, Any]:
    data = (
        OrderEvent.objects.filter(
            order_id=order.pk, kind=OrderEventKind.PAYMENT, message=POINTS_EVENT
        )
        .order_by("id")
        .values_list("data", flat=True)
        .first()
    )
    return data if isinstance(data, dict) else {}


def release_for_order(order: Order, *, actor: Actor, reason: str) -> None:
    """An unpaid order was cancelled: its points hold goes back (idempotent)."""
    if order.points_used <= 0:
        return
    hold_id = _placed_data(order).get("points_hold")
    if not isinstance(hold_id, int):
        return
    try:
        with transaction.atomic():
            ledger.release_hold(hold_id=hold_id, actor=actor, reason=reason[:200])
    except DomainError as refused:  # committed already: a refund restores the points
        logger.warning("releasing points hold of order %s: %s", order.number, refused)


# --- payment -----------------------------------------------------------------------------


def _commit(order: Order, *, hold_id: object, source_key: str) -> bool:
    """Commit the order's hold; False when there is none to commit (lapsed, released)."""
    if not isinstance(hold_id, int):
        return False
    try:
        with transaction.atomic():
            ledger.commit_hold(
                hold_id=hold_id,
                source_key=source_key,
                actor=SYSTEM,
                kind=PointsEntryKind.SPEND,
                document=order.number,
            )
    except DomainError as refused:  # points_hold_not_held: spend them anew
        logger.info("points hold of order %s not committed: %s", order.number, refused.code)
        return False
    return True


def _spend(order: Order) -> tuple[int | None, int]:
    """Commit (or, when the hold lapsed, spend anew) the order's points: (member, spent)."""
    placed = _placed_data(order)
    member_id = placed.get("points_member")
    if not isinstance(member_id, int):
        return None, 0
    source_key = f"order:{order.number}:spend"
    if _commit(order, hold_id=placed.get("points_hold"), source_key=source_key):
        return member_id, order.points_used
    try:
        with transaction.atomic():
            ledger.spend_points(
                member_id=member_id,
                points=order.points_used,
                source_key=source_key,
                document=order.number,
                actor=SYSTEM,
            )
    except DomainError as refused:
        order.needs_attention = True
        order.save(update_fields=["needs_attention", "updated_at"])
        add_event(
            order,
            kind=OrderEventKind.PROBLEM,
            message=text(
                gettext_noop(
                    "The %(points)s points paying %(value)s of this order were no longer held "
                    "and could not be spent (%(code)s); collect the difference or write it off."
                ),
                points=order.points_used,
                value=order.points_value,
                code=refused.code,
            ),
            data={"points": order.points_used, "code": refused.code},
        )
        return member_id, 0
    return member_id, order.points_used


def settle_paid(order: Order, *, lines: Sequence[OrderLine]) -> None:
    """The order was just paid (inside the capture transaction): spend, earn, purchase."""
    if order.points_used <= 0 and order.user_id is None:
        return
    member_id, spent = _spend(order) if order.points_used > 0 else (None, 0)
    member = member_for_user(order.user_id) if order.user_id is not None else None
    earned = 0
    purchase = False
    if member is not None:
        try:
            with transaction.atomic():
                earned = _earn(order, member=member, lines=lines)
                purchase = _purchase(order, member_id=member.pk)
        except DomainError as refused:
            logger.warning("points for order %s refused: %s", order.number, refused)
            add_event(
                order,
                kind=OrderEventKind.PROBLEM,
                message=text(
                    gettext_noop("Points could not be earned for this order (%(code)s)."),
                    code=refused.code,
                ),
                data={"code": refused.code},
            )
            earned, purchase = 0, False
    if member_id is None and member is None:
        return
    add_event(
        order,
        kind=OrderEventKind.PAYMENT,
        message=POINTS_EVENT,
        data={
            "points_member": member_id,
            "points_spent": spent,
            "earn_member": member.pk if member is not None else None,
            "points_earned": earned,
            "purchase": purchase,
        },
    )


def _lines_points_value(order: Order, pairs: Sequence[tuple[int, Decimal]]) -> Decimal:
    """Points paid part of the whole order, shipping included; ``points_for_lines`` takes
    the share of its lines, so it gets the same share of their sum: each line then earns
    on ``line × (total − points_value) / total``."""
    if order.points_value <= 0 or order.total <= 0:
        return Decimal("0")
    lines_total = sum((amount for _, amount in pairs), Decimal("0"))
    return order.points_value * lines_total / order.total


def _earn(order: Order, *, member: Any, lines: Sequence[OrderLine]) -> int:
    pairs = [(line.sku_id, line.line_total) for line in lines]
    per_line = points_for_lines(
        rate=member.tier.points_per_cny,
        lines=pairs,
        on=timezone.localdate(order.paid_at) if order.paid_at else timezone.localdate(),
        points_value=_lines_points_value(order, pairs),
    )
    earned = sum(per_line)
    if earned <= 0:
        return 0
    ledger.earn_points(
        member_id=member.pk,
        points=earned,
        source_key=f"order:{order.number}:earn",
        document=order.number,
        actor=SYSTEM,
        pending=True,
    )
    Order.objects.filter(pk=order.pk).update(points_earned=earned)
    order.points_earned = earned
    return earned


def _purchase(order: Order, *, member_id: int) -> bool:
    record_purchase(
        member_id=member_id,
        channel=PurchaseChannel.ONLINE,
        store_id=order.credited_store_id,
        document=order.number,
        source_key=f"order:{order.number}:purchase",
        amount=order.total,
        occurred_at=order.paid_at or timezone.now(),
        actor=SYSTEM,
    )
    return True


# --- completion and refunds --------------------------------------------------------------


def settle_completed(order: Order, *, actor: Actor) -> None:
    """The return window closed: the pending points of the order become available."""
    if order.points_earned <= 0:
        return
    ledger.mature_points(
        earn_source_key=f"order:{order.number}:earn",
        source_key=f"order:{order.number}:mature",
        actor=actor,
    )


def settle_refund(
    order: Order, *, refund_no: str, before: Decimal, after: Decimal, actor: Actor
) -> dict[str, int]:
    """Money refunded from ``before`` to ``after``: restore the matching share of the
    spent points, reverse the matching share of the earn, lower the tier spend."""
    if order.points_used <= 0 and order.points_earned <= 0 and order.user_id is None:
        return {}
    settled = _settled_data(order)
    if not settled:
        return {}
    money = order.total - order.points_value
    spent = int(settled.get("points_spent") or 0)
    earned = int(settled.get("points_earned") or 0)
    back = split.points_share(spent, refunded_before=before, refunded_after=after, money=money)
    taken = split.points_share(earned, refunded_before=before, refunded_after=after, money=money)
    key = f"order:{order.number}:refund:{refund_no}"
    reason = f"refund {refund_no} of order {order.number}"
    member_id = settled.get("points_member")
    if back and isinstance(member_id, int):
        ledger.restore_points(
            member_id=member_id,
            points=back,
            source_key=f"{key}:restore",
            document=order.number,
            actor=actor,
            reason=reason,
        )
    if taken:
        ledger.reverse_earn(
            earn_source_key=f"order:{order.number}:earn",
            points=taken,
            source_key=f"{key}:reverse",
            document=order.number,
            actor=actor,
            reason=reason,
        )
    buyer = settled.get("earn_member")
    value = split.value_share(
        total=order.total, refunded_before=before, refunded_after=after, money=money
    )
    if settled.get("purchase") and isinstance(buyer, int) and value > 0:
        record_purchase(
            member_id=buyer,
            channel=PurchaseChannel.ONLINE,
            store_id=order.credited_store_id,
            document=order.number,
            source_key=f"{key}:purchase",
            amount=-value,
            occurred_at=timezone.now(),
            actor=actor,
        )
    if back or taken:
        add_event(
            order,
            kind=OrderEventKind.PAYMENT,
            message=text(
                gettext_noop(
                    "Points: %(restored)s restored, %(reversed)s earned reversed (%(refund_no)s)."
                ),
                restored=back,
                reversed=taken,
                refund_no=refund_no,
            ),
            actor=actor,
            data={"refund_no": refund_no, "points_restored": back, "points_reversed": taken},
        )
    return {"restored": back, "reversed": taken}
