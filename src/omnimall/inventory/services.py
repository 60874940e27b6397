"""Stock writes: receipts, adjustments and reservations over one ledger.

Rules every function here keeps:

- Every change of ``on_hand`` appends a ``StockMovement`` in the same transaction, so
  ``on_hand`` always equals the sum of its level's movements.
- Counters change only by conditional ``UPDATE … SET x = x ± q WHERE <still allowed>`` and a
  row-count check; never read-modify-write in Python. The table's CHECK constraints are the
  backstop.
- Lock order: reservation rows (by primary key) before stock-level rows (by primary key), in
  every service, so two of them never wait on each other in a cycle.
- Expired holds. ``reserved`` counts every reservation in state ``held``, including one past
  its ``expires_at`` until a service releases it (``check_stock_ledger`` checks exactly that).
  Such a lapsed hold stops counting against availability at once anyway: the selectors
  subtract only live holds, and ``reserve_stock`` first releases the lapsed holds of its level
  inside its own transaction, so the freed units are sellable without waiting for the
  periodic ``release_expired_reservations``.
- Transactions are plain (not durable) ``atomic`` blocks: checkout and orders will call these
  inside their own unit of work.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Now

from omnimall.catalog.models import Sku
from omnimall.core import audit, clock
from omnimall.core.actors import Actor

from .domain import Shortage, available_to_sell
from .errors import (
    AdjustmentBelowReservedError,
    InsufficientStockError,
    InvalidQuantityError,
    ReasonRequiredError,
    ReservationExpiredError,
    ReservationNotFoundError,
    ReservationStateError,
    SkuNotFoundError,
    StockLedgerError,
    StockLocationNotFoundError,
)
from .models import (
    MovementKind,
    Reservation,
    ReservationState,
    StockLevel,
    StockLocation,
    StockMovement,
)

DEFAULT_HOLD = timedelta(minutes=15)
EXPIRY_BATCH = 500


def _require_positive(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidQuantityError(quantity=quantity)
    return quantity


def _ensure_level(*, location_id: int, sku_id: int) -> StockLevel:
    """The level of ``sku_id`` at ``location_id``, created empty on first use."""
    level = StockLevel.objects.filter(location_id=location_id, sku_id=sku_id).first()
    if level is not None:
        return level
    # Checked here because PostgreSQL defers foreign keys to COMMIT: a bad id would
    # otherwise surface as an IntegrityError after the work is done.
    if not StockLocation.objects.filter(pk=location_id).exists():
        raise StockLocationNotFoundError(location_id=location_id)
    if not Sku.objects.filter(pk=sku_id).exists():
        raise SkuNotFoundError(sku_id=sku_id)
    level, _ = StockLevel.objects.get_or_create(location_id=location_id, sku_id=sku_id)
    return level


def _append_movement(
    *,
    level_id: int,
    kind: MovementKind,
    quantity: int,
    actor: Actor,
    reason: str = "",
    reference: str = "",
    reservation_id: int | None = None,
) -> StockMovement:
    return StockMovement.objects.create(
        level_id=level_id,
        kind=kind,
        quantity=quantity,
        reason=reason,
        actor_kind=actor.kind,
        actor_label=actor.label[:150],
        reference=reference[:120],
        reservation_id=reservation_id,
    )


def _level_available(level_id: int) -> int:
    row = StockLevel.objects.values("on_hand", "reserved", "safety_stock").get(pk=level_id)
    return available_to_sell(**row)


def receive_stock(
    *, location_id: int, sku_id: int, quantity: int, actor: Actor, reference: str = ""
) -> StockMovement:
    """Goods arrived at a location: ``on_hand`` grows by ``quantity`` (a receipt movement)."""
    _require_positive(quantity)
    with transaction.atomic():
        level = _ensure_level(location_id=location_id, sku_id=sku_id)
        StockLevel.objects.filter(pk=level.pk).update(
            on_hand=F("on_hand") + quantity, updated_at=Now()
        )
        movement = _append_movement(
            level_id=level.pk,
            kind=MovementKind.RECEIPT,
            quantity=quantity,
            actor=actor,
            reference=reference,
        )
        audit.record(
            actor=actor,
            action="stock.received",
            subject=level,
            changes={"on_hand": [f"+{quantity}"], "movement_id": movement.pk},
            reason=reference,
        )
    return movement


def adjust_stock(
    *,
    location_id: int,
    sku_id: int,
    quantity: int,
    reason: str,
    actor: Actor,
    reference: str = "",
    kind: MovementKind = MovementKind.ADJUSTMENT,
) -> StockMovement:
    """Correct ``on_hand`` by a signed ``quantity``, with a required reason.

    A decrease may not take ``on_hand`` below what is reserved (nor below zero): the
    holds must be released first, so a shopper's promised units are never silently lost.
    """
    if kind not in (MovementKind.ADJUSTMENT, MovementKind.COUNT_CORRECTION):
        raise InvalidQuantityError("Only adjustments and count corrections.", kind=str(kind))
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
        raise InvalidQuantityError(quantity=quantity)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequiredError()
    with transaction.atomic():
        level = _ensure_level(location_id=location_id, sku_id=sku_id)
        rows = StockLevel.objects.filter(pk=level.pk)
        if quantity < 0:
            rows = rows.filter(on_hand__gte=F("reserved") - quantity)
        if rows.update(on_hand=F("on_hand") + quantity, updated_at=Now()) != 1:
            current = StockLevel.objects.values("on_hand", "reserved").get(pk=level.pk)
            raise AdjustmentBelowReservedError(quantity=quantity, **current)
        movement = _append_movement(
            level_id=level.pk,
            kind=kind,
            quantity=quantity,
            actor=actor,
            reason=reason,
            reference=reference,
        )
        audit.record(
            actor=actor,
            action=f"stock.{kind}",
            subject=level,
            changes={"on_hand": [f"{quantity:+d}"], "movement_id": movement.pk},
            reason=reason,
        )
    return movement


def set_safety_stock(
    *, location_id: int, sku_id: int, safety_stock: int, actor: Actor
) -> StockLevel:
    """Keep ``safety_stock`` units of a level back from online sale."""
    if isinstance(safety_stock, bool) or not isinstance(safety_stock, int) or safety_stock < 0:
        raise InvalidQuantityError(safety_stock=safety_stock)
    with transaction.atomic():
        level = _ensure_level(location_id=location_id, sku_id=sku_id)
        before = level.safety_stock
        StockLevel.objects.filter(pk=level.pk).update(safety_stock=safety_stock, updated_at=Now())
        level.refresh_from_db()
        audit.record(
            actor=actor,
            action="stock.safety_stock_set",
            subject=level,
            changes={"safety_stock": [before, safety_stock]},
        )
    return level


def _release_lapsed_holds(*, level_id: int, now: datetime) -> int:
    """Expire the holds of one level that are past ``expires_at``; returns the units freed.

    Call inside a transaction. On PostgreSQL rows another transaction is already releasing
    are skipped (SKIP LOCKED): waiting for them could deadlock with a caller that holds
    another level's row, and that other transaction frees the units anyway.
    """
    lapsed = Reservation.objects.filter(
        level_id=level_id, state=ReservationState.HELD, expires_at__lte=now
    ).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        lapsed = lapsed.select_for_update(skip_locked=True)
    rows = list(lapsed.values_list("pk", "quantity"))
    if not rows:
        return 0
    Reservation.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        state=ReservationState.EXPIRED, updated_at=Now()
    )
    freed = sum(quantity for _, quantity in rows)
    StockLevel.objects.filter(pk=level_id).update(reserved=F("reserved") - freed, updated_at=Now())
    return freed


def reserve_stock(
    *,
    location_id: int,
    sku_id: int,
    quantity: int,
    owner_type: str = "",
    owner_id: str = "",
    reference: str = "",
    hold_for: timedelta = DEFAULT_HOLD,
    now: datetime | None = None,
) -> Reservation:
    """Hold ``quantity`` units at one location for ``hold_for``, or raise ``out_of_stock``.

    One conditional UPDATE decides: it succeeds only while on_hand ≥ reserved + safety
    stock + quantity, so concurrent buyers can never hold more than there is.
    """
    _require_positive(quantity)
    if hold_for <= timedelta(0):
        raise InvalidQuantityError("A hold must last a positive time.", hold_for=str(hold_for))
    now = now or clock.now()
    level_id = (
        StockLevel.objects.filter(location_id=location_id, sku_id=sku_id)
        .values_list("pk", flat=True)
        .first()
    )
    if level_id is None:
        raise InsufficientStockError([Shortage(sku_id, location_id, quantity, 0)])
    with transaction.atomic():
        _release_lapsed_holds(level_id=level_id, now=now)
        matched = StockLevel.objects.filter(
            pk=level_id, on_hand__gte=F("reserved") + F("safety_stock") + quantity
        ).update(reserved=F("reserved") + quantity, updated_at=Now())
        if matched != 1:
            available = _level_available(level_id)
            raise InsufficientStockError([Shortage(sku_id, location_id, quantity, available)])
        return Reservation.objects.create(
            level_id=level_id,
            quantity=quantity,
            owner_type=owner_type[:40],
            owner_id=owner_id[:64],
            reference=reference[:120],
            expires_at=now + hold_for,
        )


def _lock_reservation(reservation_id: int) -> Reservation:
    reservation = Reservation.objects.select_for_update().filter(pk=reservation_id).first()
    if reservation is None:
        raise ReservationNotFoundError(reservation_id=reservation_id)
    return reservation


def commit_reservation(
    *, reservation_id: int, actor: Actor, reference: str = "", now: datetime | None = None
) -> StockMovement:
    """The held units leave: a sale movement takes them from ``on_hand`` and ``reserved``.

    A hold past its expiry is refused: its units have stopped counting as held and may
    already be promised to someone else.
    """
    now = now or clock.now()
    with transaction.atomic():
        reservation = _lock_reservation(reservation_id)
        if reservation.state != ReservationState.HELD:
            raise ReservationStateError(reservation_id=reservation_id, state=reservation.state)
        if reservation.expires_at <= now:
            raise ReservationExpiredError(
                reservation_id=reservation_id, expires_at=reservation.expires_at.isoformat()
            )
        quantity = reservation.quantity
        matched = StockLevel.objects.filter(
            pk=reservation.level_id, reserved__gte=quantity, on_hand__gte=quantity
        ).update(
            on_hand=F("on_hand") - quantity, reserved=F("reserved") - quantity, updated_at=Now()
        )
        if matched != 1:
            raise StockLedgerError(f"level {reservation.level_id} holds less than {reservation}")
        reservation.state = ReservationState.COMMITTED
        reservation.save(update_fields=["state", "updated_at"])
        return _append_movement(
            level_id=reservation.level_id,
            kind=MovementKind.SALE,
            quantity=-quantity,
            actor=actor,
            reference=reference or reservation.reference,
            reservation_id=reservation.pk,
        )


def release_reservation(*, reservation_id: int) -> Reservation:
    """Give a hold's units back. Releasing a hold that already ended changes nothing."""
    with transaction.atomic():
        reservation = _lock_reservation(reservation_id)
        if reservation.state in (ReservationState.RELEASED, ReservationState.EXPIRED):
            return reservation
        if reservation.state == ReservationState.COMMITTED:
            raise ReservationStateError(reservation_id=reservation_id, state=reservation.state)
        matched = StockLevel.objects.filter(
            pk=reservation.level_id, reserved__gte=reservation.quantity
        ).update(reserved=F("reserved") - reservation.quantity, updated_at=Now())
        if matched != 1:
            raise StockLedgerError(f"level {reservation.level_id} holds less than {reservation}")
        reservation.state = ReservationState.RELEASED
        reservation.save(update_fields=["state", "updated_at"])
    return reservation


def release_expired_reservations(
    *, now: datetime | None = None, batch_size: int = EXPIRY_BATCH
) -> int:
    """Mark every held reservation past ``expires_at`` expired; returns how many.

    The periodic sweeper. Idempotent; each batch is its own short transaction. On PostgreSQL
    rows are locked in primary-key order with SKIP LOCKED, so parallel sweepers share the
    work; levels are then updated in primary-key order, so they never deadlock.
    """
    now = now or clock.now()
    released = 0
    while True:
        with transaction.atomic():
            due = Reservation.objects.filter(
                state=ReservationState.HELD, expires_at__lte=now
            ).order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            batch = list(due.values_list("pk", "level_id", "quantity")[:batch_size])
            if not batch:
                return released
            Reservation.objects.filter(pk__in=[pk for pk, _, _ in batch]).update(
                state=ReservationState.EXPIRED, updated_at=Now()
            )
            freed: defaultdict[int, int] = defaultdict(int)
            for _, level_id, quantity in batch:
                freed[level_id] += quantity
            for level_id in sorted(freed):
                StockLevel.objects.filter(pk=level_id).update(
                    reserved=F("reserved") - freed[level_id], updated_at=Now()
                )
        released += len(batch)
        if len(batch) < batch_size:
            return released
