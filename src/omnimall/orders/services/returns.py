"""Returns: request, approve or reject, receive (stock back through the ledger), refund.

A return walks ``requested → approved → received → refunded`` (or ``requested /
approved → rejected``). Every step locks the order first (``timeline.lock_order``, the
first lock any order write takes), then the return, writes a ``return`` event on the
order's timeline and an audit entry, all in one transaction: a refused step changes
nothing.

- ``request_return``: the order is in ``domain.RETURNABLE`` and was delivered or picked
  up (the timeline's state event) at most ``settings.RETURN_WINDOW_DAYS`` ago; each line
  asks for at most what was bought, less what came back and what other open returns ask.
- ``receive_return``: the goods arrived at an active warehouse or store; each line goes
  back into stock with inventory ``receive_stock(kind=RETURN, reference=<return number>)``
  and ``OrderLine.quantity_returned`` grows by a conditional update.
- ``refund_return``: the refund (default: the lines' unit prices × quantities; on an
  order paid partly with points, only its money share goes through the gateway and the
  matching points come back) goes
  through ``refunds`` with the return number as refund number (so it is idempotent);
  the order becomes ``returned`` when every unit came back, else ``partly_refunded``,
  where the state machine allows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils.translation import gettext_noop

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.core.errors import ConflictError, NotFoundError
from omnimall.core.money import quantize
from omnimall.inventory import services as inventory
from omnimall.inventory.models import MovementKind
from omnimall.inventory.selectors.allocation import list_locations
from omnimall.orders import domain, split, texts
from omnimall.orders.errors import InvalidReturnError, ReturnNotAllowedError
from omnimall.orders.models import (
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    ReturnLine,
    ReturnRequest,
    ReturnState,
)

from . import refunds, timeline

MAX_LINES = 200
MAX_REASON = 2000
OPEN_STATES = (ReturnState.REQUESTED, ReturnState.APPROVED)
# What each step says on the order's timeline (``number``: the return's), in one place
# for the translators; ``approved: note`` when staff wrote one.
STEP_TEXTS = {
    "requested": gettext_noop("Return %(number)s requested: %(reason)s"),
    "approved": gettext_noop("Return %(number)s approved."),
    "approved: note": gettext_noop("Return %(number)s approved: %(note)s"),
    "rejected": gettext_noop("Return %(number)s rejected: %(reason)s"),
    "received": gettext_noop("Return %(number)s received: at %(location)s"),
    "refunded": gettext_noop("Return %(number)s refunded."),
}


class ReturnNotFoundError(NotFoundError):
    code = "unknown_return"
    message = "No such return."


class ReturnStateError(ConflictError):
    code = "return_state"
    message = "The return does not allow this in its current state."


def _clean_text(text: object, *, what: str) -> str:
    cleaned = text.strip() if isinstance(text, str) else ""
    if not cleaned:
        raise InvalidReturnError(f"A {what} is required.", field=what)
    return cleaned[:MAX_REASON]


def _wanted(lines: Sequence[tuple[int, int]]) -> dict[int, int]:
    """``{order line id: quantity}`` from the request, refused if malformed."""
    wanted: dict[int, int] = {}
    for item in lines:
        try:
            line_id, quantity = item
        except (TypeError, ValueError):
            raise InvalidReturnError("Each line is (order line, quantity).") from None
        for value in (line_id, quantity):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidReturnError(line=str(line_id)[:20], quantity=str(quantity)[:20])
        if line_id in wanted:
            raise InvalidReturnError("Each line at most once.", line=line_id)
        wanted[line_id] = quantity
    if not wanted or len(wanted) > MAX_LINES:
        raise InvalidReturnError("A return needs 1 to 200 lines.", lines=len(wanted))
    return wanted


def handed_over_at(order: Order) -> datetime | None:
    """When the order was delivered or picked up (the timeline), else when it closed."""
    moment = (
        OrderEvent.objects.filter(
            order_id=order.pk,
            kind=OrderEventKind.STATE,
            state_to__in=(domain.DELIVERED, domain.PICKED_UP),
        )
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    return moment or order.closed_at


def _check_returnable(order: Order) -> None:
    if order.state not in domain.RETURNABLE:
        raise ReturnNotAllowedError(
            "Only a delivered or picked-up order can be returned.",
            number=order.number,
            state=order.state,
        )
    handed = handed_over_at(order)
    window = timedelta(days=settings.RETURN_WINDOW_DAYS)
    if handed is None or clock.now() - handed > window:
        raise ReturnNotAllowedError(
            "The return window of this order has closed.",
            number=order.number,
            window_days=settings.RETURN_WINDOW_DAYS,
        )


def _check_quantities(order: Order, wanted: dict[int, int]) -> dict[int, OrderLine]:
    lines = OrderLine.objects.filter(order_id=order.pk).in_bulk()
    unknown = sorted(set(wanted) - set(lines))
    if unknown:
        raise InvalidReturnError("A line is not part of this order.", line=unknown[0])
    pending = dict(
        ReturnLine.objects.filter(request__order_id=order.pk, request__state__in=OPEN_STATES)
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
        .values_list("order_line_id", "units")
    )
    too_many = []
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        left = line.quantity - line.quantity_returned - pending.get(line_id, 0)
        if quantity > left:
            too_many.append({"sku": line.sku_code, "asked": quantity, "returnable": left})
    if too_many:
        raise InvalidReturnError("More units than can be returned.", lines=too_many)
    return lines


def request_return(
    *, order_id: int, lines: Sequence[tuple[int, int]], reason: str, actor: Actor
) -> ReturnRequest:
    """Ask to return ``lines`` (``(order line id, quantity)``) of a delivered order."""
    text = _clean_text(reason, what="reason")
    wanted = _wanted(lines)
    with transaction.atomic():
        order = timeline.lock_order(order_id)
        _check_returnable(order)
        _check_quantities(order, wanted)
        n = ReturnRequest.objects.filter(order_id=order.pk).count() + 1
        request = ReturnRequest.objects.create(
            number=f"{order.number}-RT{n}", order=order, reason=text
        )
        ReturnLine.objects.bulk_create(
            ReturnLine(request=request, order_line_id=line_id, quantity=quantity)
            for line_id, quantity in sorted(wanted.items())
        )
        units = sum(wanted.values())
        _event(order, request, step="requested", actor=actor, says={"reason": text}, units=units)
        audit.record(actor=actor, action="return.requested", subject=request, reason=text)
    return request


def _event(
    order: Order,
    request: ReturnRequest,
    *,
    step: str,
    actor: Actor,
    said: str = "",
    says: dict[str, str] | None = None,
    **data: object,
) -> None:
    """The return's ``step`` on the order's timeline: its ``STEP_TEXTS`` (``said``, else the
    step's) with the return's number and ``says``."""
    template = STEP_TEXTS[said or step]
    timeline.add_event(
        order,
        kind=OrderEventKind.RETURN,
        message=texts.text(template, number=request.number, **(says or {})),
        actor=actor,
        data={"return": request.number, "step": step, **data},
    )


def _lock(return_id: int) -> tuple[Order, ReturnRequest]:
    order_id = ReturnRequest.objects.filter(pk=return_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise ReturnNotFoundError(return_id=return_id)
    order = timeline.lock_order(order_id)
    request = ReturnRequest.objects.select_for_update().get(pk=return_id)
    return order, request


def _move(request: ReturnRequest, allowed: Sequence[str], target: str, *fields: str) -> str:
    before = request.state
    if before not in allowed:
        raise ReturnStateError(number=request.number, state=before, target=target)
    request.state = target
    request.save(update_fields=["state", "updated_at", *fields])
    return before


def approve_return(*, return_id: int, actor: Actor, note: str = "") -> ReturnRequest:
    """Staff accept a requested return: the shopper may send the goods back."""
    with transaction.atomic():
        order, request = _lock(return_id)
        if note.strip():
            request.staff_note = note.strip()[:MAX_REASON]
        _move(request, (ReturnState.REQUESTED,), ReturnState.APPROVED, "staff_note")
        typed = note.strip()
        said = "approved: note" if typed else ""
        _event(order, request, step="approved", actor=actor, said=said, says={"note": typed})
        audit.record(
            actor=actor,
            action="return.approved",
            subject=request,
            changes={"state": [ReturnState.REQUESTED, ReturnState.APPROVED]},
            reason=note.strip(),
        )
    return request


def reject_return(*, return_id: int, reason: str, actor: Actor) -> ReturnRequest:
    """Staff refuse a return not yet received, saying why (the shopper sees the reason)."""
    text = _clean_text(reason, what="reason")
    with transaction.atomic():
        order, request = _lock(return_id)
        request.staff_note = text
        before = _move(request, OPEN_STATES, ReturnState.REJECTED, "staff_note")
        _event(order, request, step="rejected", actor=actor, says={"reason": text})
        audit.record(
            actor=actor,
            action="return.rejected",
            subject=request,
            changes={"state": [before, ReturnState.REJECTED]},
            reason=text,
        )
    return request


def _active_location(location_id: int) -> str:
    found = next((loc for loc in list_locations() if loc.location_id == location_id), None)
    if found is None:
        raise InvalidReturnError("No such active warehouse or store.", location_id=location_id)
    return found.code


def receive_return(*, return_id: int, location_id: int, actor: Actor) -> ReturnRequest:
    """The goods of an approved return arrived at ``location_id``: back into its stock."""
    with transaction.atomic():
        order, request = _lock(return_id)
        code = _active_location(location_id)
        request.received_at_location_id = location_id
        _move(request, (ReturnState.APPROVED,), ReturnState.RECEIVED, "received_at_location")
        items = list(
            request.lines.select_related("order_line").order_by("order_line__sku_id", "pk")
        )
        for item in items:
            grown = OrderLine.objects.filter(
                pk=item.order_line_id, quantity__gte=F("quantity_returned") + item.quantity
            ).update(quantity_returned=F("quantity_returned") + item.quantity)
            if grown != 1:
                raise InvalidReturnError(
                    "More units than were bought would be returned.",
                    sku=item.order_line.sku_code,
                )
            inventory.receive_stock(
                location_id=location_id,
                sku_id=item.order_line.sku_id,
                quantity=item.quantity,
                actor=actor,
                reference=request.number,
                kind=MovementKind.RETURN,
            )
        units = sum(item.quantity for item in items)
        _event(order, request, step="received", actor=actor, says={"location": code}, units=units)
        audit.record(
            actor=actor,
            action="return.received",
            subject=request,
            changes={"state": [ReturnState.APPROVED, ReturnState.RECEIVED], "location": code},
        )
    return request


def return_value(request: ReturnRequest) -> Decimal:
    """What the returned lines cost the shopper: unit price × quantity, summed."""
    total = sum(
        (
            item.order_line.unit_price * item.quantity
            for item in ReturnLine.objects.filter(request_id=request.pk).select_related(
                "order_line"
            )
        ),
        Decimal("0"),
    )
    return quantize(total)


def _money_for(order: Order, value: Decimal) -> Decimal:
    """The gateway part of a returned ``value``: all of it, unless points paid part of
    the order; then its money share, cumulatively exact over the order's returns
    (``orders.split``). A replayed refund number gives the same figure again."""
    if order.points_value <= 0:
        return value
    earlier = OrderEvent.objects.filter(
        order_id=order.pk, kind=OrderEventKind.REFUND, data__has_key="value"
    ).values_list("data", flat=True)
    before = sum((Decimal(str(data["value"])) for data in earlier), Decimal("0"))
    if before + value > order.total:
        # The split would cap it at all the money paid; a typo must not refund the order.
        raise refunds.RefundExceedsPaidError(value=str(value), left=str(order.total - before))
    money = split.money_for_value(
        value, refunded_value_before=before, total=order.total, points_value=order.points_value
    )
    return refunds.clean_amount(money)


def refund_return(*, return_id: int, actor: Actor, amount: Decimal | None = None) -> ReturnRequest:
    """Refund a received return (default: its value); the order becomes returned when
    every unit came back, else partly refunded."""
    with transaction.atomic():
        order, request = _lock(return_id)
        if request.state != ReturnState.RECEIVED:
            raise ReturnStateError(
                number=request.number, state=request.state, target=ReturnState.REFUNDED
            )
        value = refunds.clean_amount(amount if amount is not None else return_value(request))
        money = _money_for(order, value)
        everything_back = not OrderLine.objects.filter(
            order_id=order.pk, quantity_returned__lt=F("quantity")
        ).exists()
        refund = refunds.refund_locked(
            order,
            amount=money,
            reason=texts.text(gettext_noop("Return %(number)s"), number=request.number),
            actor=actor,
            refund_no=request.number,
            target=domain.RETURNED if everything_back else domain.PARTLY_REFUNDED,
            data={"return": request.number, "value": str(value)},
        )
        request.refund_amount = refund.amount
        _move(request, (ReturnState.RECEIVED,), ReturnState.REFUNDED, "refund_amount")
        _event(order, request, step="refunded", actor=actor, amount=str(refund.amount))
        audit.record(
            actor=actor,
            action="return.refunded",
            subject=request,
            changes={"state": [ReturnState.RECEIVED, ReturnState.REFUNDED]},
            reason=f"{refund.amount} {order.currency}",
        )
    return request
