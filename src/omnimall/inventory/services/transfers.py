"""Transfers between locations: draft → in transit → received (or cancelled).

Callers import the module: ``from omnimall.inventory.services import transfers``.

- Dispatch takes the units off the source (``transfer_out`` movements), all lines or none;
  each line is a conditional UPDATE that only takes units nobody holds
  (on_hand − reserved ≥ quantity), so a transfer never strips a shopper's reservation.
- While in transit the units belong to neither location (``selectors.transfers`` lists them).
- Receipt adds them at the destination (``transfer_in``), creating levels it lacks.
- Cancelling a transfer in transit puts them back at the source (``transfer_in``, with the
  reason recorded on the movements).

Locks: the transfer row first, then its stock levels in primary-key order (the order of
``stock``), so transfers, baskets and single reservations never wait on each other in a
cycle. Every change is audited in the transaction that makes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Now

from omnimall.catalog import selectors as catalog_selectors
from omnimall.core import audit, clock
from omnimall.core.actors import Actor
from omnimall.inventory.domain import Shortage
from omnimall.inventory.errors import (
    InsufficientStockError,
    InvalidTransferError,
    ReasonRequiredError,
    SkuNotFoundError,
    StockLocationNotFoundError,
    TransferNotFoundError,
    TransferStateError,
)
from omnimall.inventory.models import (
    MovementKind,
    StockLevel,
    StockLocation,
    Transfer,
    TransferLine,
    TransferState,
)

from .stock import _append_movement, _ensure_level, _release_lapsed_holds, _require_positive

TransferLineIn = tuple[int, int]  # (sku_id, quantity)


def _merge_lines(lines: Sequence[TransferLineIn]) -> dict[int, int]:
    """``{sku_id: quantity}`` in first-seen order; a SKU named twice adds up."""
    if isinstance(lines, str | bytes) or not lines:
        raise InvalidTransferError("A transfer needs at least one line.")
    merged: dict[int, int] = {}
    for line in lines:
        try:
            sku_id, quantity = line
        except (TypeError, ValueError):
            raise InvalidTransferError(
                "A transfer line is (sku_id, quantity).", line=repr(line)
            ) from None
        if isinstance(sku_id, bool) or not isinstance(sku_id, int):
            raise InvalidTransferError("A SKU id is an integer.", line=repr(line))
        merged[sku_id] = merged.get(sku_id, 0) + _require_positive(quantity)
    return merged


def create_transfer(
    *,
    source_id: int,
    destination_id: int,
    lines: Sequence[TransferLineIn],
    actor: Actor,
    note: str = "",
) -> Transfer:
    """A draft transfer numbered ``TR-000001``…; moves no stock yet."""
    if source_id == destination_id:
        raise InvalidTransferError("A transfer needs two different locations.", source_id=source_id)
    wanted = _merge_lines(lines)
    known = set(
        StockLocation.objects.filter(pk__in=[source_id, destination_id]).values_list(
            "pk", flat=True
        )
    )
    for location_id in (source_id, destination_id):
        if location_id not in known:
            raise StockLocationNotFoundError(location_id=location_id)
    for sku_id in wanted:
        if not catalog_selectors.sku_exists(sku_id=sku_id):
            raise SkuNotFoundError(sku_id=sku_id)
    with transaction.atomic():
        # The number comes from the primary key, so it is unique without a counter row.
        transfer = Transfer.objects.create(
            number=f"new-{uuid4().hex[:16]}",
            source_id=source_id,
            destination_id=destination_id,
            note=(note or "").strip(),
            created_by=actor.label[:150],
        )
        transfer.number = f"TR-{transfer.pk:06d}"
        transfer.save(update_fields=["number"])
        TransferLine.objects.bulk_create(
            TransferLine(transfer=transfer, sku_id=sku_id, quantity=quantity)
            for sku_id, quantity in wanted.items()
        )
        audit.record(
            actor=actor,
            action="transfer.created",
            subject=transfer,
            changes={
                "source_id": source_id,
                "destination_id": destination_id,
                "lines": [[sku_id, quantity] for sku_id, quantity in wanted.items()],
            },
            reason=transfer.note,
        )
    return transfer


def _lock_transfer(transfer_id: int) -> Transfer:
    transfer = Transfer.objects.select_for_update().filter(pk=transfer_id).first()
    if transfer is None:
        raise TransferNotFoundError(transfer_id=transfer_id)
    return transfer


_ACTIONS = {
    TransferState.IN_TRANSIT: "dispatched",
    TransferState.RECEIVED: "received",
    TransferState.CANCELLED: "cancelled",
}


def _require_state(transfer: Transfer, *states: TransferState, action: str) -> None:
    if transfer.state not in states:
        raise TransferStateError(
            f"Transfer {transfer.number} is {transfer.state}; it cannot be {action}.",
            transfer_id=transfer.pk,
            state=transfer.state,
        )


def _move_to(
    transfer: Transfer, state: TransferState, *, stamp: str, actor: Actor, reason: str = ""
) -> None:
    """Record the new state and its time on the transfer, and the change in the audit trail."""
    before = transfer.state
    transfer.state = state
    setattr(transfer, stamp, clock.now())
    transfer.save(update_fields=["state", stamp])
    audit.record(
        actor=actor,
        action=f"transfer.{_ACTIONS[state]}",
        subject=transfer,
        changes={"state": [before, state]},
        reason=reason,
    )


def _lines(transfer: Transfer) -> dict[int, int]:
    return dict(transfer.lines.order_by("pk").values_list("sku_id", "quantity"))


def _take_unheld(*, level_id: int, quantity: int) -> bool:
    """Take ``quantity`` units nobody holds off a level: True if they were there."""
    matched = StockLevel.objects.filter(pk=level_id, on_hand__gte=F("reserved") + quantity).update(
        on_hand=F("on_hand") - quantity, updated_at=Now()
    )
    return matched == 1


def _take_from_source(transfer: Transfer, actor: Actor) -> None:
    """Transfer-out movements at the source for every line, or ``out_of_stock`` for all."""
    wanted = _lines(transfer)
    now = clock.now()
    no_key = connection.features.has_select_for_no_key_update  # as stock._lock_level
    levels = (
        StockLevel.objects.select_for_update(no_key=no_key)
        .filter(location_id=transfer.source_id, sku_id__in=list(wanted))
        .order_by("pk")
        .values_list("pk", "sku_id")
    )
    shortages: dict[int, Shortage] = {}
    found: set[int] = set()
    for level_id, sku_id in list(levels):
        found.add(sku_id)
        quantity = wanted[sku_id]
        if not _take_unheld(level_id=level_id, quantity=quantity):
            # Lapsed holds do not count: free them under the lock and decide again.
            _release_lapsed_holds(level_id=level_id, now=now)
            if not _take_unheld(level_id=level_id, quantity=quantity):
                row = StockLevel.objects.values("on_hand", "reserved").get(pk=level_id)
                free = max(row["on_hand"] - row["reserved"], 0)
                shortages[sku_id] = Shortage(sku_id, transfer.source_id, quantity, free)
                continue
        _append_movement(
            level_id=level_id,
            kind=MovementKind.TRANSFER_OUT,
            quantity=-quantity,
            actor=actor,
            reference=transfer.number,
        )
    missing = [sku_id for sku_id in wanted if sku_id not in found or sku_id in shortages]
    if missing:
        raise InsufficientStockError(
            [
                shortages.get(sku_id) or Shortage(sku_id, transfer.source_id, wanted[sku_id], 0)
                for sku_id in missing
            ]
        )


def _put_at(*, location_id: int, transfer: Transfer, actor: Actor, reason: str = "") -> None:
    """Transfer-in movements at ``location_id`` for every line (levels made if missing)."""
    wanted = _lines(transfer)
    level_ids = {
        _ensure_level(location_id=location_id, sku_id=sku_id).pk: sku_id for sku_id in wanted
    }
    for level_id in sorted(level_ids):  # the lock order: primary key
        quantity = wanted[level_ids[level_id]]
        StockLevel.objects.filter(pk=level_id).update(
            on_hand=F("on_hand") + quantity, updated_at=Now()
        )
        _append_movement(
            level_id=level_id,
            kind=MovementKind.TRANSFER_IN,
            quantity=quantity,
            actor=actor,
            reason=reason,
            reference=transfer.number,
        )


def dispatch_transfer(*, transfer_id: int, actor: Actor) -> Transfer:
    """Draft → in transit: the units leave the source, every line or none."""
    with transaction.atomic():
        transfer = _lock_transfer(transfer_id)
        _require_state(transfer, TransferState.DRAFT, action="dispatched")
        _take_from_source(transfer, actor)
        _move_to(transfer, TransferState.IN_TRANSIT, stamp="dispatched_at", actor=actor)
    return transfer


def receive_transfer(*, transfer_id: int, actor: Actor) -> Transfer:
    """In transit → received: the units arrive at the destination."""
    with transaction.atomic():
        transfer = _lock_transfer(transfer_id)
        _require_state(transfer, TransferState.IN_TRANSIT, action="received")
        _put_at(location_id=transfer.destination_id, transfer=transfer, actor=actor)
        _move_to(transfer, TransferState.RECEIVED, stamp="received_at", actor=actor)
    return transfer


def cancel_transfer(*, transfer_id: int, actor: Actor, reason: str) -> Transfer:
    """Cancel a draft, or a transfer in transit (its units go back to the source)."""
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequiredError("Cancelling a transfer needs a reason.")
    with transaction.atomic():
        transfer = _lock_transfer(transfer_id)
        _require_state(transfer, TransferState.DRAFT, TransferState.IN_TRANSIT, action="cancelled")
        if transfer.state == TransferState.IN_TRANSIT:
            _put_at(location_id=transfer.source_id, transfer=transfer, actor=actor, reason=reason)
        _move_to(
            transfer, TransferState.CANCELLED, stamp="cancelled_at", actor=actor, reason=reason
        )
    return transfer


def transfer_stock(
    *,
    source_id: int,
    destination_id: int,
    lines: Sequence[TransferLineIn],
    actor: Actor,
    note: str = "",
) -> Transfer:
    """Create and dispatch in one transaction: in transit, or nothing at all."""
    with transaction.atomic():
        transfer = create_transfer(
            source_id=source_id,
            destination_id=destination_id,
            lines=lines,
            actor=actor,
            note=note,
        )
        return dispatch_transfer(transfer_id=transfer.pk, actor=actor)
