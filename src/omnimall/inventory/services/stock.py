"""Stock writes: receipts, adjustments and reservations over one ledger.

Rules every function here keeps:

- Every change of ``on_hand`` appends a ``StockMovement`` in the same transaction, so
  ``on_hand`` always equals the sum of its level's movements.
- Counters change only by conditional ``UPDATE … SET x = x ± q WHERE <still allowed>`` and a
  row-count check; never read-modify-write in Python. The table's CHECK constraints are the
  backstop.
- Lock order: a stock-level row first (several of them in primary-key order), then the
  reservation rows of that level. Every service keeps it, so none waits on another in a
  cycle, and whoever changes a reservation's state holds its level's lock.
- Expired holds. ``reserved`` counts every reservation in state ``held``, including one past
  its ``expires_at`` until a service releases it (``check_stock_ledger`` checks exactly that).
  Such a lapsed hold stops counting against availability at once anyway: the selectors
  subtract only live holds, and when ``reserve_stock`` finds too little stock it releases the
  lapsed holds of its level inside its own transaction and tries again, so the freed units
  are sellable without waiting for the periodic ``release_expired_reservations``.
- Transactions are plain (not durable) ``atomic`` blocks: checkout and orders will call these
  inside their own unit of work. ``baskets.reserve_basket`` (every checkout) takes no
  savepoint there while every line fits: it decides under the locks before writing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Now

from omnimall.catalog import selectors as catalog_selectors
from omnimall.channels import selectors as channel_selectors
from omnimall.core import audit, clock, sql
from omnimall.core.actors import Actor
from omnimall.inventory.domain import Shortage, available_to_sell
from omnimall.inventory.errors import (
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
    UnknownChannelError,
)
from omnimall.inventory.models import (
    ChannelSafetyStock,
    MovementKind,
    Reservation,
    ReservationState,
    StockLevel,
    StockLocation,
    StockMovement,
)

from . import flash

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
    if not catalog_selectors.sku_exists(sku_id=sku_id):
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


def _level_available(level_id: int, kept_back: int = 0) -> int:
    """What the level can still promise; ``kept_back``: a channel's extra safety units."""
    row = StockLevel.objects.values("on_hand", "reserved", "safety_stock").get(pk=level_id)
    return available_to_sell(
        on_hand=row["on_hand"],
        reserved=row["reserved"],
        safety_stock=row["safety_stock"] + kept_back,
    )


def receive_stock(
    *,
    location_id: int,
    sku_id: int,
    quantity: int,
    actor: Actor,
    reference: str = "",
    kind: MovementKind = MovementKind.RECEIPT,
) -> StockMovement:
    """Goods arrived at a location: ``on_hand`` grows by ``quantity``.

    ``kind`` is a receipt (from a supplier), or a return (a shopper's goods came back).
    """
    _require_positive(quantity)
    if kind not in (MovementKind.RECEIPT, MovementKind.RETURN):
        raise InvalidQuantityError("Only receipts and returns arrive.", kind=str(kind))
    with transaction.atomic():
        level = _ensure_level(location_id=location_id, sku_id=sku_id)
        StockLevel.objects.filter(pk=level.pk).update(
            on_hand=F("on_hand") + quantity, updated_at=Now()
        )
        movement = _append_movement(
            level_id=level.pk,
            kind=kind,
            quantity=quantity,
            actor=actor,
            reference=reference,
        )
        audit.record(
            actor=actor,
            action="stock.received" if kind == MovementKind.RECEIPT else "stock.returned",
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


def channel_kept_back(*, channel_code: str | None, location_ids: Iterable[int]) -> dict[int, int]:
    """Units ``channel_code`` keeps back at each location, on top of the level's own.

    The rule for (channel, location) wins over the channel's rule for every location
    (location empty); no rule means 0. ``None`` (no channel named) keeps nothing back.
    """
    ids = list(dict.fromkeys(location_ids))
    if channel_code is None:
        return dict.fromkeys(ids, 0)
    channel_id = channel_selectors.get_channel_id(channel_code)
    if channel_id is None:
        raise UnknownChannelError(channel_code=channel_code)
    rules: dict[int | None, int] = dict(
        ChannelSafetyStock.objects.filter(channel_id=channel_id)
        .filter(Q(location_id__in=ids) | Q(location__isnull=True))
        .values_list("location_id", "units")
    )
    default = rules.get(None, 0)
    return {location_id: rules.get(location_id, default) for location_id in ids}


def set_channel_safety_stock(
    *, channel_code: str, location_id: int | None, units: int, actor: Actor
) -> ChannelSafetyStock:
    """Keep ``units`` back from ``channel_code`` at one location, or at every location (None).

    A location's rule overrides the channel-wide one, so 0 at a location lifts a
    channel-wide rule there.
    """
    if isinstance(units, bool) or not isinstance(units, int) or units < 0:
        raise InvalidQuantityError(units=units)
    channel_id = channel_selectors.get_channel_id(channel_code)
    if channel_id is None:
        raise UnknownChannelError(channel_code=channel_code)
    with transaction.atomic():
        if location_id is not None and not StockLocation.objects.filter(pk=location_id).exists():
            raise StockLocationNotFoundError(location_id=location_id)
        rule, created = ChannelSafetyStock.objects.select_for_update().get_or_create(
            channel_id=channel_id, location_id=location_id, defaults={"units": units}
        )
        before = None if created else rule.units
        if not created and rule.units != units:
            rule.units = units
            rule.save(update_fields=["units"])
        audit.record(
            actor=actor,
            action="stock.channel_safety_stock_set",
            subject=rule,
            changes={"units": [before, units], "channel": channel_code},
        )
    return rule


def _lock_level(level_id: int) -> None:
    # FOR NO KEY UPDATE: a flash-sale buyer's reservation checks its foreign key with FOR KEY
    # SHARE on the level at COMMIT, and must not wait behind a lock holder (services.flash).
    no_key = connection.features.has_select_for_no_key_update
    StockLevel.objects.select_for_update(no_key=no_key).filter(pk=level_id).values_list(
        "pk"
    ).first()


def _release_lapsed_holds(*, level_id: int, now: datetime) -> int:
    """Expire the held reservations of one level past ``expires_at``; returns how many.

    Call inside a transaction that holds the level's row lock (see the lock order above).
    """
    lapsed = (
        Reservation.objects.select_for_update()
        .filter(level_id=level_id, state=ReservationState.HELD, expires_at__lte=now)
        .order_by("pk")
    )
    rows = list(lapsed.values_list("pk", "quantity"))
    if not rows:
        return 0
    Reservation.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        state=ReservationState.EXPIRED, updated_at=Now()
    )
    freed = sum(quantity for _, quantity in rows)
    StockLevel.objects.filter(pk=level_id).update(reserved=F("reserved") - freed, updated_at=Now())
    return len(rows)


# The conditional UPDATE that decides every reservation (the one place of this rule):
# on_hand ≥ reserved + safety_stock + kept_back + quantity, where ``kept_back`` (a channel's
# safety units at this location) is a bound parameter of the same statement.
_HOLD_SQL = f"""UPDATE {StockLevel._meta.db_table}
SET reserved = reserved + %(quantity)s, updated_at = %(now)s
WHERE id = %(level_id)s AND on_hand >= reserved + safety_stock + %(kept_back)s + %(quantity)s
"""  # noqa: S608 (table names from the models; values are bound)
# On PostgreSQL the hold (or, in flash-sale mode, the draw from a free bucket) and its
# reservation row are one statement: in autocommit the row lock then lives only inside the
# server (statement + commit), never across a round trip to a Python process that 63 other
# buyers may be waiting behind for a CPU.
_RECORD_HELD_SQL = f"""
INSERT INTO {Reservation._meta.db_table}
    (level_id, quantity, state, owner_type, owner_id, reference, expires_at,
     created_at, updated_at)
SELECT %(level_id)s, %(quantity)s, %(state)s, %(owner_type)s, %(owner_id)s, %(reference)s,
    %(expires_at)s, %(now)s, %(now)s
FROM held
RETURNING id
"""  # noqa: S608
_HOLD_AND_RECORD_SQL = f"WITH held AS ({_HOLD_SQL} RETURNING id) {_RECORD_HELD_SQL}"


@functools.cache
def _draw_and_record_sql() -> str:
    # Built on first use: ``flash`` imports this module's primitives, so it is not ready yet
    # while this module loads.
    return f"WITH held AS ({flash.DRAW_FREE_UPDATE_SQL} RETURNING id) {_RECORD_HELD_SQL}"


def _hold_units(*, level_id: int, quantity: int, kept_back: int = 0) -> bool:
    """Run the conditional hold UPDATE: True if the units were held."""
    params = {"level_id": level_id, "quantity": quantity, "kept_back": kept_back}
    with connection.cursor() as cursor:
        cursor.execute(_HOLD_SQL, {**params, "now": clock.now()})
        return cursor.rowcount == 1


def _hold_and_record(
    *, level_id: int, quantity: int, kept_back: int, buckets: int, fields: dict[str, Any]
) -> Reservation | None:
    """PostgreSQL's fast path: hold (or draw) and insert the reservation in one statement.

    None when it held nothing; the caller then takes the full path.
    """
    sql, params = _HOLD_AND_RECORD_SQL, {"kept_back": kept_back}
    if buckets:
        sql, params = (
            _draw_and_record_sql(),
            {"buckets": buckets, "start": flash.first_slot(buckets)},
        )
    row_fields = {**fields, "state": ReservationState.HELD.value, "now": clock.now()}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"level_id": level_id, "quantity": quantity, **params, **row_fields})
        row = cursor.fetchone()
    if row is None:
        return None
    values = {"id": row[0], "level_id": level_id, "quantity": quantity, **row_fields}
    values["created_at"] = values["updated_at"] = values.pop("now")
    names = [field.attname for field in Reservation._meta.concrete_fields]
    return Reservation.from_db(connection.alias, names, [values[name] for name in names])


def reserve_stock(
    *,
    location_id: int,
    sku_id: int,
    quantity: int,
    owner_type: str = "",
    owner_id: str = "",
    reference: str = "",
    hold_for: timedelta = DEFAULT_HOLD,
    channel_code: str | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Hold ``quantity`` units at one location for ``hold_for``, or raise ``out_of_stock``.

    One conditional UPDATE decides: it succeeds only while on_hand ≥ reserved + safety
    stock (+ the channel's safety stock here, when ``channel_code`` is given) + quantity,
    so concurrent buyers can never hold more than there is. Only when it
    fails is the level locked, its lapsed holds released and the UPDATE tried once more, so
    the common path stays one UPDATE and one INSERT — on PostgreSQL one statement.
    """
    _require_positive(quantity)
    if hold_for <= timedelta(0):
        raise InvalidQuantityError("A hold must last a positive time.", hold_for=str(hold_for))
    now = now or clock.now()
    kept_back = channel_kept_back(channel_code=channel_code, location_ids=[location_id])[
        location_id
    ]
    # An inactive location sells nothing, as the availability selectors show.
    found = (
        StockLevel.objects.filter(location_id=location_id, sku_id=sku_id, location__is_active=True)
        .annotate(buckets=flash.bucket_count())  # flash-sale mode: same query, no extra trip
        .values_list("pk", "buckets")
        .first()
    )
    if found is None:
        raise InsufficientStockError([Shortage(sku_id, location_id, quantity, 0)])
    level_id, buckets = found
    fields: dict[str, Any] = {
        "owner_type": owner_type[:40],
        "owner_id": owner_id[:64],
        "reference": reference[:120],
        "expires_at": now + hold_for,
    }
    if connection.vendor == "postgresql":
        reservation = _hold_and_record(
            level_id=level_id,
            quantity=quantity,
            kept_back=kept_back,
            buckets=buckets,
            fields=fields,
        )
        if reservation is not None:
            return reservation
    with transaction.atomic():
        held = flash.draw_units(level_id=level_id, quantity=quantity, buckets=buckets)
        held = held or _hold_units(level_id=level_id, quantity=quantity, kept_back=kept_back)
        if not held:
            # Under the level's lock no one else can free or take units: release the lapsed
            # holds and decide again, so a refusal never counts an expired hold.
            _lock_level(level_id)
            _release_lapsed_holds(level_id=level_id, now=now)
            held = _hold_units(level_id=level_id, quantity=quantity, kept_back=kept_back)
            held = held or flash.draw_across_buckets(
                level_id=level_id, quantity=quantity, kept_back=kept_back
            )
        if not held:
            available = _level_available(level_id, kept_back) + flash.units_in_buckets(
                level_id=level_id
            )
            raise InsufficientStockError([Shortage(sku_id, location_id, quantity, available)])
        return Reservation.objects.create(level_id=level_id, quantity=quantity, **fields)


def _lock_reservation(reservation_id: int) -> Reservation:
    """Lock the reservation's level, then the reservation (the lock order above)."""
    level_id = (
        Reservation.objects.filter(pk=reservation_id).values_list("level_id", flat=True).first()
    )
    if level_id is None:
        raise ReservationNotFoundError(reservation_id=reservation_id)
    _lock_level(level_id)
    return Reservation.objects.select_for_update().get(pk=reservation_id)


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


def extend_holds(
    *, reservation_ids: Iterable[int], until: datetime, now: datetime | None = None
) -> int:
    """Keep live holds until ``until`` (an order was paid and now waits for shipping).

    One UPDATE; only holds still ``held`` and not yet lapsed are extended (a lapsed hold's
    units may already be promised elsewhere). Returns how many were extended: fewer than
    asked means the caller must hold the rest anew.
    """
    now = now or clock.now()
    ids = list(reservation_ids)
    if not ids:
        return 0
    # Hand-written (every payment notification runs it): the ORM's UPDATE cost more Python
    # to compile than the rest of marking the order paid.
    expires = Reservation._meta.get_field("expires_at")
    with connection.cursor() as cursor:
        cursor.execute(
            _extend_holds_sql(connection.vendor, len(ids)),
            [
                expires.get_db_prep_save(until, connection),
                expires.get_db_prep_save(now, connection),  # updated_at
                ReservationState.HELD.value,
                expires.get_db_prep_save(now, connection),
                *ids,
            ],
        )
        return int(cursor.rowcount)


@functools.cache
def _extend_holds_sql(vendor: str, count: int) -> str:
    """``filter(pk__in=…, state=held, expires_at__gt=now).update(expires_at=…, updated_at=…)``."""
    meta = Reservation._meta

    def q(name: str) -> str:
        return sql.quote(meta.get_field(name).column)  # type: ignore[union-attr]

    return (
        f"UPDATE {sql.quote(meta.db_table)} SET {q('expires_at')} = %s, "  # noqa: S608
        f"{q('updated_at')} = %s WHERE {q('state')} = %s AND {q('expires_at')} > %s "
        f"AND {q('id')} IN ({', '.join(['%s'] * count)})"
    )


def release_expired_reservations(
    *, now: datetime | None = None, batch_size: int = EXPIRY_BATCH
) -> int:
    """Mark every held reservation past ``expires_at`` expired; returns how many.

    The periodic sweeper. Idempotent; each batch is its own short transaction that locks the
    batch's levels in primary-key order. On PostgreSQL it skips levels another transaction
    holds (SKIP LOCKED): parallel sweepers share the work, a busy level never stalls the
    sweep, and what was skipped is picked up by the next run.
    """
    now = now or clock.now()
    released = 0
    after_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                Reservation.objects.filter(
                    state=ReservationState.HELD, expires_at__lte=now, pk__gt=after_pk
                )
                .order_by("pk")
                .values_list("pk", "level_id")[:batch_size]
            )
            if not batch:
                return released
            after_pk = batch[-1][0]
            levels = StockLevel.objects.filter(pk__in={level_id for _, level_id in batch})
            # NO KEY UPDATE, like _lock_level: flash buyers committing a bucket draw take a
            # key-share lock on the level and must not wait for the sweep.
            no_key = connection.features.has_select_for_no_key_update
            if connection.features.has_select_for_update_skip_locked:
                levels = levels.select_for_update(skip_locked=True, no_key=no_key)
            else:
                levels = levels.select_for_update(no_key=no_key)
            for level_id in list(levels.order_by("pk").values_list("pk", flat=True)):
                released += _release_lapsed_holds(level_id=level_id, now=now)
        if len(batch) < batch_size:
            return released
