"""Flash-sale mode: a hot level's sellable units split over buckets that buyers draw in turn.

One stock level is one row, and every ``reserve_stock`` of it updates that row: buyers queue
on its lock, so a hot SKU sells at the rate one row can be locked, updated and committed.
In flash-sale mode the level's sellable units are moved into ``FlashBucket`` rows; a buyer
draws from one bucket with a conditional ``UPDATE … SET remaining = remaining − q WHERE
remaining ≥ q``, so concurrent buyers mostly lock different rows.

Invariant (``check_stock_ledger`` verifies it): a level's ``reserved`` = Σ its held
reservations + Σ its buckets' ``remaining``. Filling the buckets adds their units to
``reserved`` (they are set aside from the level's own pool); a draw turns bucket units into
a held reservation without touching the level (``reserved`` already counts them); a commit,
release or expiry works exactly as outside flash-sale mode, so released units go back to
the level's pool, not to a bucket. Receipts while in flash-sale mode also stay in the pool;
``refill_flash_sale`` spreads the pool over the buckets again.

``reserve_stock`` tries a bucket first, then the pool; when both are short it serves the
buyer from all buckets together plus the pool, under the level's lock
(``draw_across_buckets``), so a buyer is refused only when the pool and the buckets
together hold too little. No unit is ever in two places.

Lock order, as in ``stock``: the level first, then its buckets in primary-key order. Every
lock this module takes on a level is ``FOR NO KEY UPDATE``: a buyer who drew from a bucket
still has to check its reservation's foreign key (``FOR KEY SHARE`` on the level) when it
commits, and that must not wait behind someone who holds the level and waits for the
buyer's bucket.
"""

from __future__ import annotations

import functools
import random
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, IntegerField, Q, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now

from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.inventory.domain import available_to_sell
from omnimall.inventory.errors import (
    InvalidQuantityError,
    StockLedgerError,
    StockLevelNotFoundError,
)
from omnimall.inventory.models import ChannelSafetyStock, FlashBucket, StockLevel

from . import stock

MAX_BUCKETS = 256


@functools.cache
def bucket_count() -> RawSQL:
    """An annotation for a ``StockLevel`` query: how many buckets it has (0: not in flash mode).

    ``reserve_stock`` reads it with the level's id in the same query, so the ordinary path
    pays no extra round trip to learn that the level has no buckets. Raw SQL, built once:
    a ``Subquery`` costs more to build per call than the query costs to run.
    """
    quote = connection.ops.quote_name
    buckets, level = quote(FlashBucket._meta.db_table), quote(StockLevel._meta.db_table)
    sql = f"SELECT COUNT(*) FROM {buckets} fb WHERE fb.level_id = {level}.id"  # noqa: S608
    return RawSQL(sql, (), output_field=IntegerField())  # noqa: S611 (no outside input)


def first_slot(buckets: int) -> int:
    """Where a buyer starts looking: a random slot, so buyers spread over the buckets."""
    # Not a secret. The module's generator, because it is reseeded in every forked process
    # (gunicorn workers): a copied private one repeats its slots in every worker.
    return random.randrange(buckets)  # noqa: S311


def draw_units(*, level_id: int, quantity: int, buckets: int) -> bool:
    """Take ``quantity`` units from one bucket of the level; True if taken.

    Call inside the transaction that creates the reservation; ``buckets`` is the level's
    bucket count as ``bucket_count`` read it (0: returns False at once, no query). Never
    oversells: the ``UPDATE`` re-checks ``remaining ≥ quantity`` on the row it changes.
    """
    if buckets <= 0:
        return False
    start = first_slot(buckets)
    if connection.vendor == "postgresql":
        return _draw_postgresql(level_id=level_id, quantity=quantity, buckets=buckets, start=start)
    # SQLite serialises writers: no row locks to dodge. The slot drawn, else any with enough.
    draw = {"remaining": F("remaining") - quantity}
    mine = FlashBucket.objects.filter(level_id=level_id, remaining__gte=quantity)
    if mine.filter(slot=start).update(**draw):
        return True
    candidate = mine.order_by("?").values("pk")[:1]
    return bool(mine.filter(pk=Subquery(candidate)).update(**draw))


_TABLE = FlashBucket._meta.db_table
_SAVEPOINT = "omnimall_flash_draw"
# 1. From the slot drawn onwards, the first bucket holding enough that no other buyer has
#    locked (SKIP LOCKED: no queueing). The savepoint rides in the same round trip.
#    ``reserve_stock`` on PostgreSQL also runs DRAW_FREE_UPDATE_SQL alone, with the
#    reservation's INSERT in the same statement, before it tries anything else.
DRAW_FREE_UPDATE_SQL = f"""UPDATE {_TABLE} SET remaining = remaining - %(quantity)s
WHERE remaining >= %(quantity)s AND id = (
    SELECT id FROM {_TABLE}
    WHERE level_id = %(level_id)s AND remaining >= %(quantity)s
    ORDER BY (slot + %(buckets)s - %(start)s) %% %(buckets)s
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)"""  # noqa: S608 (the table name is ours; values are bound)
_DRAW_FREE_SQL = f"SAVEPOINT {_SAVEPOINT};\n{DRAW_FREE_UPDATE_SQL}\nRETURNING id"
# 2. Every bucket with enough is busy: queue for the slot drawn (after letting go of
#    anything statement 1 locked), rather than take the level's slow path.
_DRAW_QUEUED_SQL = f"""
ROLLBACK TO SAVEPOINT {_SAVEPOINT};
UPDATE {_TABLE} SET remaining = remaining - %(quantity)s
WHERE level_id = %(level_id)s AND slot = %(start)s AND remaining >= %(quantity)s
RETURNING id
"""  # noqa: S608
# 3. None: let go of every bucket row touched. A READ COMMITTED UPDATE that waited for a
#    row and then found it no longer matching keeps that row locked; rolled back, nobody
#    holds a bucket while waiting for the level (the lock order is the level, then its
#    buckets: the slow path, enable and disable).
_UNDO_SQL = f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}; RELEASE SAVEPOINT {_SAVEPOINT}"


def _several_statements_cursor() -> Any:
    """A cursor that may send several statements in one round trip (PostgreSQL).

    The connection's own cursors bind on the server so that statements can be prepared
    (settings), and the protocol that uses takes one statement per message; this one binds
    on the client, as psycopg's ``ClientCursor`` does, and is wrapped like Django's own
    (query logging, execute wrappers)."""
    from psycopg import ClientCursor

    connection.ensure_connection()
    cursor = ClientCursor(connection.connection)
    # (django-stubs type these with Django's wrapper; they take the driver's cursor.)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)  # type: ignore[arg-type]
    return connection.make_cursor(cursor)  # type: ignore[arg-type]


def _draw_postgresql(*, level_id: int, quantity: int, buckets: int, start: int) -> bool:
    params = {"quantity": quantity, "level_id": level_id, "buckets": buckets, "start": start}
    with _several_statements_cursor() as cursor:
        for sql in (_DRAW_FREE_SQL, _DRAW_QUEUED_SQL):
            cursor.execute(sql, params)
            cursor.nextset()  # past the SAVEPOINT's (or ROLLBACK's) empty result
            if cursor.fetchone() is not None:
                # The savepoint stays open: COMMIT (or the caller's RELEASE) takes it along.
                return True
        cursor.execute(_UNDO_SQL)
    return False


def units_in_buckets(*, level_id: int) -> int:
    """Σ remaining over the level's buckets (0 outside flash-sale mode)."""
    total = FlashBucket.objects.filter(level_id=level_id).aggregate(total=Sum("remaining"))
    return int(total["total"] or 0)


def _lock_buckets(level_id: int) -> list[tuple[int, int]]:
    """Lock the level's buckets in primary-key order; ``[(pk, remaining), …]``."""
    return list(
        FlashBucket.objects.select_for_update()
        .filter(level_id=level_id)
        .order_by("pk")
        .values_list("pk", "remaining")
    )


def draw_across_buckets(*, level_id: int, quantity: int, kept_back: int = 0) -> bool:
    """Serve ``quantity`` from all the level's buckets together, the pool making up the rest.

    For ``reserve_stock`` when a single bucket and the pool were both short: call it holding
    the level's lock (lapsed holds already released). Locks the buckets in primary-key
    order, takes what they hold (the fullest first) and the rest from the pool with the
    pool's conditional ``UPDATE`` (safety stock and ``kept_back`` respected). True if the
    units are held; False changes nothing.
    """
    held = _lock_buckets(level_id)
    in_buckets = sum(remaining for _, remaining in held)
    if in_buckets == 0:
        return False
    from_pool = max(quantity - in_buckets, 0)
    if from_pool and not StockLevel.objects.filter(
        pk=level_id, on_hand__gte=F("reserved") + F("safety_stock") + (from_pool + kept_back)
    ).update(reserved=F("reserved") + from_pool, updated_at=Now()):
        return False
    wanted = quantity - from_pool
    for pk, remaining in sorted(held, key=lambda row: -row[1]):
        take = min(remaining, wanted)
        if take:
            FlashBucket.objects.filter(pk=pk, remaining__gte=take).update(
                remaining=F("remaining") - take
            )
            wanted -= take
    return True


def _change_reserved(level_id: int, delta: int) -> None:
    if not delta:
        return
    matched = StockLevel.objects.filter(
        pk=level_id, reserved__gte=-delta, on_hand__gte=F("reserved") + delta
    ).update(reserved=F("reserved") + delta, updated_at=Now())
    if matched != 1:
        raise StockLedgerError(f"level {level_id}: reserved cannot change by {delta:+d}")


def _lock_level(level_id: int) -> StockLevel:
    no_key = connection.features.has_select_for_no_key_update
    level = StockLevel.objects.select_for_update(no_key=no_key).filter(pk=level_id).first()
    if level is None:
        raise StockLevelNotFoundError(level_id=level_id)
    return level


def _largest_channel_kept_back(location_id: int) -> int:
    """The most units any sales channel keeps back at the location (its own rule or its
    rule for every location)."""
    per_channel: dict[int, int] = {}
    rules = ChannelSafetyStock.objects.filter(
        Q(location_id=location_id) | Q(location__isnull=True)
    ).values_list("channel_id", "location_id", "units")
    for channel_id, rule_location, units in rules.order_by("location_id"):
        # Nulls sort last on PostgreSQL, first on SQLite: a location's rule always wins.
        if rule_location is not None or channel_id not in per_channel:
            per_channel[channel_id] = units
    return max(per_channel.values(), default=0)


def _split(units: int, buckets: int) -> list[int]:
    """``units`` over ``buckets`` as evenly as possible: the first ones get one more."""
    base, extra = divmod(units, buckets)
    return [base + (1 if slot < extra else 0) for slot in range(buckets)]


def _resplit(*, level_id: int, buckets: int, now: datetime) -> tuple[int, int, int]:
    """Under the level's lock: merge the buckets back, then split the pool over ``buckets``.

    Returns (buckets before, units merged back, units bucketed now).
    """
    stock._release_lapsed_holds(level_id=level_id, now=now)
    held = _lock_buckets(level_id)
    merged = sum(remaining for _, remaining in held)
    level = StockLevel.objects.values("on_hand", "reserved", "safety_stock", "location_id").get(
        pk=level_id
    )
    # What the pool could sell with the buckets' units back in it, to any channel: a bucket
    # draw does not look at channels, so the largest channel safety stock stays in the pool.
    sellable = available_to_sell(
        on_hand=level["on_hand"],
        reserved=level["reserved"] - merged,
        safety_stock=level["safety_stock"] + _largest_channel_kept_back(level["location_id"]),
    )
    FlashBucket.objects.filter(level_id=level_id).delete()
    FlashBucket.objects.bulk_create(
        FlashBucket(level_id=level_id, slot=slot, remaining=units)
        for slot, units in enumerate(_split(sellable, buckets))
    )
    _change_reserved(level_id, sellable - merged)
    return len(held), merged, sellable


def _require_bucket_count(buckets: object) -> int:
    if isinstance(buckets, bool) or not isinstance(buckets, int) or not 1 <= buckets <= MAX_BUCKETS:
        raise InvalidQuantityError(
            f"A flash sale needs 1 to {MAX_BUCKETS} buckets.", buckets=buckets
        )
    return buckets


def enable_flash_sale(
    *, level_id: int, buckets: int, actor: Actor, now: datetime | None = None
) -> int:
    """Put a level in flash-sale mode: its sellable units into ``buckets`` buckets.

    Sellable = on_hand − live holds − safety stock (lapsed holds are released first). On a
    level already in flash-sale mode, the buckets are merged back and split again over
    ``buckets``. Returns the units now in buckets.
    """
    _require_bucket_count(buckets)
    with transaction.atomic():
        level = _lock_level(level_id)
        before, merged, bucketed = _resplit(
            level_id=level_id, buckets=buckets, now=now or clock.now()
        )
        audit.record(
            actor=actor,
            action="stock.flash_sale_enabled",
            subject=level,
            changes={"buckets": [before, buckets], "bucketed": [merged, bucketed]},
        )
    return bucketed


def refill_flash_sale(*, level_id: int, actor: Actor, now: datetime | None = None) -> int:
    """Spread the level's pool (receipts, released holds) over its buckets again.

    Keeps the number of buckets; safety stock changed since the buckets were filled applies
    now. Outside flash-sale mode it changes nothing. Returns the units now in buckets.
    """
    with transaction.atomic():
        level = _lock_level(level_id)
        count = FlashBucket.objects.filter(level_id=level_id).count()
        if count == 0:
            return 0
        _, merged, bucketed = _resplit(level_id=level_id, buckets=count, now=now or clock.now())
        audit.record(
            actor=actor,
            action="stock.flash_sale_refilled",
            subject=level,
            changes={"bucketed": [merged, bucketed]},
        )
    return bucketed


def disable_flash_sale(*, level_id: int, actor: Actor) -> int:
    """Leave flash-sale mode: the buckets' units go back to the level's pool.

    Returns the units merged back; a level without buckets changes nothing (returns 0).
    """
    with transaction.atomic():
        level = _lock_level(level_id)
        held = _lock_buckets(level_id)
        if not held:
            return 0
        merged = sum(remaining for _, remaining in held)
        _change_reserved(level_id, -merged)
        FlashBucket.objects.filter(level_id=level_id).delete()
        audit.record(
            actor=actor,
            action="stock.flash_sale_disabled",
            subject=level,
            changes={"buckets": [len(held), 0], "merged": merged},
        )
    return merged
