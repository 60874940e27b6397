"""Fulfilment requests: what one location must ship (or hand over) for an order.

The orders app creates a request per location with the lines' reservations; the warehouse
(WMS) or store sees it in ``GET /api/v1/inventory/fulfilment-requests``, may accept or
reject it, and confirms shipments. A shipment commits the shipped lines' holds (sale
movements); a rejection or a cancellation releases the holds of the lines not shipped.

States: ``open`` → ``accepted`` → ``shipped`` (every line shipped); ``open``/``accepted`` →
``rejected`` (by the location, with a reason) or ``cancelled`` (by the shop) while no line
has shipped. Anything else is refused with 409 ``fulfilment_state``.

Lock order: the request row first, then stock levels in primary-key order, then
reservations (the stock services' order below the request).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from omnimall.catalog import selectors as catalog_selectors
from omnimall.core import audit, clock, events, sql
from omnimall.core.actors import Actor
from omnimall.core.errors import ConflictError, NotFoundError, ValidationFailedError
from omnimall.inventory.domain import Shortage
from omnimall.inventory.errors import (
    InsufficientStockError,
    InvalidQuantityError,
    ReasonRequiredError,
    SkuNotFoundError,
    StockLocationNotFoundError,
)
from omnimall.inventory.events import FulfilmentAccepted, FulfilmentRejected, FulfilmentShipped
from omnimall.inventory.models import (
    FulfilmentLine,
    FulfilmentMethod,
    FulfilmentRequest,
    FulfilmentState,
    MovementKind,
    Reservation,
    ReservationState,
    Shipment,
    StockLevel,
    StockLocation,
    StockMovement,
)

from .fulfilment_rows import HeldReservation, held_reservations, insert_request
from .stock import commit_reservation, release_reservation

LIVE_STATES = (FulfilmentState.OPEN, FulfilmentState.ACCEPTED)


class FulfilmentRequestNotFoundError(NotFoundError):
    code = "unknown_fulfilment_request"
    message = "No such fulfilment request."


class FulfilmentStateError(ConflictError):
    code = "fulfilment_state"
    message = "The fulfilment request does not allow this in its current state."


class FulfilmentLineError(ValidationFailedError):
    code = "invalid_fulfilment_lines"
    message = "The fulfilment lines are not valid."


def _reservation_problem(
    held: HeldReservation | None, *, location_id: int, sku_id: int, quantity: int
) -> str:
    if held is None:
        return "no such reservation"
    state, held_quantity, held_location, held_sku, used = held
    if state != ReservationState.HELD:
        return f"the reservation is {state}, not held"
    if (held_location, held_sku) != (location_id, sku_id):
        return "the reservation holds another SKU or location"
    if held_quantity != quantity:
        return f"the reservation holds {held_quantity} units, the line asks {quantity}"
    if used:
        return "the reservation already serves another fulfilment line"
    return ""


def _check_lines(*, location_id: int, lines: Sequence[tuple[int, int, int | None]]) -> None:
    """Refuse unknown locations, bad quantities, unknown SKUs and unfit reservations, line
    by line in that order (the first problem found is the error).

    A reservation of the line's SKU at the location proves both exist (foreign keys), so
    the usual request (every line held there) costs this one query.
    """
    held = held_reservations(reservation_ids=sorted({r for _, _, r in lines if r is not None}))
    proven = {(loc, sku) for _, _, loc, sku, _ in held.values()}
    if not any(loc == location_id for loc, _ in proven) and (
        not StockLocation.objects.filter(pk=location_id).exists()
    ):
        raise StockLocationNotFoundError(location_id=location_id)
    for index, (sku_id, quantity, reservation_id) in enumerate(lines):
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise InvalidQuantityError(line=index, quantity=quantity)
        if not any(sku == sku_id for _, sku in proven) and not catalog_selectors.sku_exists(
            sku_id=sku_id
        ):
            raise SkuNotFoundError(line=index, sku_id=sku_id)
        if reservation_id is None:
            continue
        problem = _reservation_problem(
            held.get(reservation_id), location_id=location_id, sku_id=sku_id, quantity=quantity
        )
        if problem:
            raise FulfilmentLineError(problem, line=index, reservation_id=reservation_id)


def create_fulfilment_request(
    *,
    location_id: int,
    reference: str,
    lines: Sequence[tuple[int, int, int | None]],
    method: str = FulfilmentMethod.SHIP,
    ship_to: dict[str, Any] | None = None,
    note: str = "",
    owner_type: str = "",
    owner_id: str = "",
    actor: Actor,
) -> FulfilmentRequest:
    """Ask one location to fulfil ``lines`` of ``(sku_id, quantity, reservation_id)``.

    A line's reservation, when given, must be a hold of that SKU at that location for
    exactly that quantity; shipping the line commits it.

    The checks only read and come before any write, so a refusal leaves the caller's
    transaction usable; the writes need no savepoint of their own (inside a caller's
    transaction they stand or fall with it).
    """
    if not lines:
        raise FulfilmentLineError("A fulfilment request needs at least one line.")
    if method not in FulfilmentMethod.values:
        raise FulfilmentLineError("Unknown fulfilment method.", method=method)
    _check_lines(location_id=location_id, lines=lines)
    with transaction.atomic(savepoint=False):
        request = insert_request(
            location_id=location_id,
            method=method,
            reference=reference[:120],
            owner_type=owner_type[:40],
            owner_id=owner_id[:64],
            ship_to=ship_to or {},
            note=note[:200],
        )
        sql.insert(  # bulk_create's statement, not compiled each time (hot path)
            [
                FulfilmentLine(
                    request=request, sku_id=sku_id, quantity=quantity, reservation_id=reservation_id
                )
                for sku_id, quantity, reservation_id in lines
            ],
        )
        audit.record(
            actor=actor,
            action="fulfilment.created",
            subject=request,
            changes={"lines": len(lines), "location_id": location_id, "method": method},
            reason=reference,
        )
    return request


def _lock_request(request_id: int) -> FulfilmentRequest:
    request = FulfilmentRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise FulfilmentRequestNotFoundError(request_id=request_id)
    return request


def _refuse(request: FulfilmentRequest, action: str) -> FulfilmentStateError:
    return FulfilmentStateError(
        f"Cannot {action} fulfilment request {request.number}: it is {request.state}.",
        number=request.number,
        state=request.state,
    )


def _set_state(
    request: FulfilmentRequest, state: str, *, actor: Actor, reason: str = "", **extra: Any
) -> None:
    before = request.state
    request.state = state
    fields = ["state", "updated_at"]
    if state == FulfilmentState.REJECTED:
        request.rejection_reason = reason
        fields.append("rejection_reason")
    request.save(update_fields=fields)
    audit.record(
        actor=actor,
        action=f"fulfilment.{state}",
        subject=request,
        changes={"state": [before, state], **extra},
        reason=reason,
    )


def _lock_levels_of(reservation_ids: Iterable[int]) -> None:
    level_ids = set(
        Reservation.objects.filter(pk__in=list(reservation_ids)).values_list("level_id", flat=True)
    )
    list(
        StockLevel.objects.select_for_update()
        .filter(pk__in=level_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _release_holds(request: FulfilmentRequest) -> int:
    """Release the holds of the lines not shipped; returns how many were released."""
    reservation_ids = sorted(
        request.lines.filter(shipment__isnull=True, reservation__isnull=False).values_list(
            "reservation_id", flat=True
        )
    )
    _lock_levels_of(reservation_ids)
    for reservation_id in reservation_ids:
        release_reservation(reservation_id=reservation_id)
    return len(reservation_ids)


def accept_fulfilment_request(*, request_id: int, actor: Actor) -> FulfilmentRequest:
    """The location takes the request on (``open`` → ``accepted``)."""
    with transaction.atomic():
        request = _lock_request(request_id)
        if request.state != FulfilmentState.OPEN:
            raise _refuse(request, "accept")
        _set_state(request, FulfilmentState.ACCEPTED, actor=actor)
        events.publish_on_commit(
            FulfilmentAccepted(request.pk, request.owner_type, request.owner_id)
        )
    return request


def lock_taken_on(request_ids: Sequence[int]) -> list[str]:
    """Lock the requests until the caller's transaction ends; the numbers of those a
    location has taken on (accepted, or with a line shipped). A decision made under these
    locks cannot cross an ``accept`` or a shipment of the same requests."""
    requests = (
        FulfilmentRequest.objects.select_for_update()
        .filter(pk__in=list(request_ids))
        .order_by("pk")
    )
    return [
        request.number
        for request in requests
        if request.state != FulfilmentState.OPEN
        or request.lines.filter(shipment__isnull=False).exists()
    ]


def readdress(request_ids: Sequence[int], ship_to: dict[str, str]) -> None:
    """Send open requests to a new address (the shopper changed it before anyone took the
    order on: call under ``lock_taken_on``'s locks). ``updated_at`` moves, so a WMS polling
    by it reads the request again."""
    FulfilmentRequest.objects.filter(pk__in=list(request_ids), state=FulfilmentState.OPEN).update(
        ship_to=ship_to, updated_at=timezone.now()
    )


def _end_unshipped(
    *, request_id: int, state: str, action: str, reason: str, actor: Actor
) -> FulfilmentRequest:
    with transaction.atomic():
        request = _lock_request(request_id)
        if (
            request.state not in LIVE_STATES
            or request.lines.filter(shipment__isnull=False).exists()
        ):
            raise _refuse(request, action)
        released = _release_holds(request)
        _set_state(request, state, actor=actor, reason=reason, holds_released=released)
    return request


def reject_fulfilment_request(*, request_id: int, reason: str, actor: Actor) -> FulfilmentRequest:
    """The location cannot fulfil it (a reason is required): its holds are released."""
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequiredError("Rejecting a fulfilment request needs a reason.")
    with transaction.atomic():
        request = _end_unshipped(
            request_id=request_id,
            state=FulfilmentState.REJECTED,
            action="reject",
            reason=reason,
            actor=actor,
        )
        events.publish_on_commit(
            FulfilmentRejected(
                request.pk, request.location_id, request.owner_type, request.owner_id, reason
            )
        )
    return request


def cancel_fulfilment_request(
    *, request_id: int, actor: Actor, reason: str = ""
) -> FulfilmentRequest:
    """The shop withdraws the request (e.g. the order was cancelled): holds released."""
    return _end_unshipped(
        request_id=request_id,
        state=FulfilmentState.CANCELLED,
        action="cancel",
        reason=(reason or "").strip(),
        actor=actor,
    )


def _sell_unreserved(
    *, level: StockLevel, quantity: int, actor: Actor, reference: str
) -> StockMovement:
    """A line shipped without a hold: the units must still be free to sell."""
    matched = StockLevel.objects.filter(pk=level.pk, on_hand__gte=F("reserved") + quantity).update(
        on_hand=F("on_hand") - quantity, updated_at=Now()
    )
    if matched != 1:
        free = StockLevel.objects.values_list("on_hand", "reserved").get(pk=level.pk)
        raise InsufficientStockError(
            [Shortage(level.sku_id, level.location_id, quantity, free[0] - free[1])]
        )
    return StockMovement.objects.create(
        level_id=level.pk,
        kind=MovementKind.SALE,
        quantity=-quantity,
        actor_kind=actor.kind,
        actor_label=actor.label[:150],
        reference=reference[:120],
    )


def _chosen_lines(
    request: FulfilmentRequest, line_ids: Sequence[int] | None
) -> list[FulfilmentLine]:
    lines = list(request.lines.order_by("pk"))
    if line_ids is None:
        chosen = [line for line in lines if line.shipment_id is None]
    elif not line_ids:  # "ship nothing" is a mistake, not "everything has shipped"
        raise FulfilmentLineError("Name at least one line to ship.", number=request.number)
    else:
        wanted = set(line_ids)
        unknown = sorted(wanted - {line.pk for line in lines})
        if unknown:
            raise FulfilmentLineError(
                "These lines are not part of the request.", number=request.number, lines=unknown
            )
        shipped = sorted(line.pk for line in lines if line.pk in wanted and line.shipment_id)
        if shipped:
            raise FulfilmentStateError(
                "These lines have already shipped.", number=request.number, lines=shipped
            )
        chosen = [line for line in lines if line.pk in wanted]
    if not chosen:
        raise FulfilmentStateError(
            "Every line of this request has already shipped.", number=request.number
        )
    return chosen


def record_shipment(
    *,
    request_id: int,
    carrier: str,
    tracking_number: str,
    line_ids: Sequence[int] | None = None,
    shipped_at: datetime | None = None,
    actor: Actor,
) -> Shipment:
    """Confirm that ``line_ids`` (default: every line not yet shipped) left the location.

    Each shipped line's hold is committed (a sale movement); a line without a hold sells
    free units. When every line has shipped the request becomes ``shipped``.
    """
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    if not carrier or not tracking_number:
        raise FulfilmentLineError("A shipment needs a carrier and a tracking number.")
    with transaction.atomic():
        request = _lock_request(request_id)
        if request.state not in LIVE_STATES:
            raise _refuse(request, "ship")
        chosen = _chosen_lines(request, line_ids)
        levels = {
            (level.location_id, level.sku_id): level
            for level in StockLevel.objects.select_for_update()
            .filter(location_id=request.location_id, sku_id__in={line.sku_id for line in chosen})
            .order_by("pk")
        }
        shipment = Shipment.objects.create(
            request=request,
            carrier=carrier[:60],
            tracking_number=tracking_number[:80],
            shipped_at=shipped_at or clock.now(),
        )
        for line in chosen:
            if line.reservation_id is not None:
                commit_reservation(
                    reservation_id=line.reservation_id, actor=actor, reference=request.number
                )
                continue
            level = levels.get((request.location_id, line.sku_id))
            if level is None:
                raise InsufficientStockError(
                    [Shortage(line.sku_id, request.location_id, line.quantity, 0)]
                )
            _sell_unreserved(
                level=level, quantity=line.quantity, actor=actor, reference=request.number
            )
        FulfilmentLine.objects.filter(pk__in=[line.pk for line in chosen]).update(shipment=shipment)
        extra: dict[str, Any] = {"shipment_id": shipment.pk, "lines": [line.pk for line in chosen]}
        complete = not request.lines.filter(shipment__isnull=True).exists()
        events.publish_on_commit(
            FulfilmentShipped(
                request.pk, shipment.pk, request.owner_type, request.owner_id, complete
            )
        )
        if complete:
            _set_state(request, FulfilmentState.SHIPPED, actor=actor, **extra)
        else:
            audit.record(
                actor=actor, action="fulfilment.partly_shipped", subject=request, changes=extra
            )
    return shipment
