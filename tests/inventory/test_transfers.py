"""Transfers: draft → in transit → received, or cancelled; the ledger stays exact."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command

from omnimall.core import clock
from omnimall.core.models import AuditEntry
from omnimall.inventory.errors import (
    InsufficientStockError,
    InvalidQuantityError,
    InvalidTransferError,
    ReasonRequiredError,
    SkuNotFoundError,
    StockLocationNotFoundError,
    TransferNotFoundError,
    TransferStateError,
)
from omnimall.inventory.models import (
    MovementKind,
    ReservationState,
    StockLevel,
    StockMovement,
    Transfer,
    TransferState,
)
from omnimall.inventory.selectors import transfers as transfer_selectors
from omnimall.inventory.services import (
    receive_stock,
    reserve_stock,
    set_safety_stock,
    transfers,
)
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock():
    """A warehouse with 10 units of two SKUs, and an empty store."""
    warehouse = make_location("wh-tr")
    store = make_location("store-tr")
    skus = make_skus(2)
    for sku in skus:
        receive_stock(location_id=warehouse.pk, sku_id=sku.pk, quantity=10, actor=STOCK_ACTOR)
    return warehouse, store, skus


def _create(warehouse, store, lines, **kwargs):
    return transfers.create_transfer(
        source_id=warehouse.pk,
        destination_id=store.pk,
        lines=[(sku.pk, quantity) for sku, quantity in lines],
        actor=STOCK_ACTOR,
        **kwargs,
    )


def _movements(transfer):
    return list(
        StockMovement.objects.filter(reference=transfer.number)
        .order_by("pk")
        .values_list("level__location_id", "level__sku_id", "kind", "quantity", "reason")
    )


def test_create_transfer_makes_numbered_draft_without_moving_stock_when_lines_are_valid(stock):
    warehouse, store, (a, b) = stock

    first = _create(warehouse, store, [(a, 3), (b, 1), (a, 2)], note=" weekly refill ")
    second = _create(warehouse, store, [(b, 1)])

    assert re.fullmatch(r"TR-\d{6}", first.number)
    assert first.number != second.number
    assert first.state == TransferState.DRAFT
    assert first.note == "weekly refill"
    assert first.created_by == STOCK_ACTOR.label
    assert list(first.lines.values_list("sku_id", "quantity")) == [(a.pk, 5), (b.pk, 1)]
    assert _movements(first) == []
    assert level_of(warehouse, a).on_hand == 10
    entry = AuditEntry.objects.get(action="transfer.created", subject_id=str(first.pk))
    assert entry.changes["lines"] == [[a.pk, 5], [b.pk, 1]]


@pytest.mark.parametrize(
    ("lines", "error", "status"),
    [
        ([], InvalidTransferError, 422),
        ([(1,)], InvalidTransferError, 422),
        (["x"], InvalidTransferError, 422),
        ([("1", 1)], InvalidTransferError, 422),
        ([(None, 0)], InvalidTransferError, 422),
        (["sku", 0], InvalidTransferError, 422),
        ([("sku", 0)], InvalidTransferError, 422),
        ([(999_999, 1)], SkuNotFoundError, 404),
    ],
)
def test_create_transfer_refuses_when_lines_are_invalid(stock, lines, error, status):
    warehouse, store, _ = stock

    with pytest.raises(error) as refused:
        transfers.create_transfer(
            source_id=warehouse.pk, destination_id=store.pk, lines=lines, actor=STOCK_ACTOR
        )

    assert refused.value.status == status
    assert not Transfer.objects.exists()


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5])
def test_create_transfer_refuses_when_quantity_is_not_positive(stock, quantity):
    warehouse, store, (a, _) = stock

    with pytest.raises(InvalidQuantityError):
        _create(warehouse, store, [(a, quantity)])

    assert not Transfer.objects.exists()


def test_create_transfer_refuses_when_locations_are_same_or_unknown(stock):
    warehouse, _, (a, _) = stock

    with pytest.raises(InvalidTransferError) as same:
        _create(warehouse, warehouse, [(a, 1)])
    with pytest.raises(StockLocationNotFoundError) as unknown:
        transfers.create_transfer(
            source_id=warehouse.pk, destination_id=999_999, lines=[(a.pk, 1)], actor=STOCK_ACTOR
        )

    assert (same.value.status, unknown.value.status) == (422, 404)
    assert not Transfer.objects.exists()


def test_dispatch_transfer_takes_units_off_source_when_they_are_free(stock):
    warehouse, store, (a, b) = stock
    transfer = _create(warehouse, store, [(a, 4), (b, 10)])

    dispatched = transfers.dispatch_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR)

    assert dispatched.state == TransferState.IN_TRANSIT
    assert dispatched.dispatched_at is not None
    assert (level_of(warehouse, a).on_hand, level_of(warehouse, b).on_hand) == (6, 0)
    assert _movements(transfer) == [
        (warehouse.pk, a.pk, MovementKind.TRANSFER_OUT, -4, ""),
        (warehouse.pk, b.pk, MovementKind.TRANSFER_OUT, -10, ""),
    ]
    assert not StockLevel.objects.filter(location=store).exists()
    assert [
        (row.sku_id, row.location_id, row.quantity)
        for row in transfer_selectors.list_in_transit(sku_ids=[a.pk, b.pk])
    ] == [(a.pk, store.pk, 4), (b.pk, store.pk, 10)]
    assert AuditEntry.objects.filter(action="transfer.dispatched").count() == 1
    call_command("check_stock_ledger")


def test_dispatch_transfer_moves_nothing_and_lists_every_short_line_when_units_are_held(stock):
    warehouse, store, (a, b) = stock
    other = make_skus()[0]
    reserve_stock(location_id=warehouse.pk, sku_id=a.pk, quantity=8)
    transfer = _create(warehouse, store, [(b, 10), (a, 3), (other, 1)])

    with pytest.raises(InsufficientStockError) as refused:
        transfers.dispatch_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR)

    assert [(s.sku_id, s.requested, s.available) for s in refused.value.shortages] == [
        (a.pk, 3, 2),
        (other.pk, 1, 0),
    ]
    transfer.refresh_from_db()
    assert transfer.state == TransferState.DRAFT
    assert (level_of(warehouse, a).on_hand, level_of(warehouse, b).on_hand) == (10, 10)
    assert level_of(warehouse, a).reserved == 8
    assert _movements(transfer) == []


def test_dispatch_transfer_takes_units_of_lapsed_holds_when_they_block_it(stock):
    warehouse, store, (a, _) = stock
    past = clock.now() - timedelta(hours=1)
    hold = reserve_stock(
        location_id=warehouse.pk, sku_id=a.pk, quantity=8, now=past, hold_for=timedelta(minutes=5)
    )
    transfer = _create(warehouse, store, [(a, 10)])

    transfers.dispatch_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR)

    hold.refresh_from_db()
    assert hold.state == ReservationState.EXPIRED
    level = level_of(warehouse, a)
    assert (level.on_hand, level.reserved) == (0, 0)
    call_command("check_stock_ledger")


def test_dispatch_transfer_ignores_safety_stock_when_units_are_not_held(stock):
    warehouse, store, (a, _) = stock
    set_safety_stock(location_id=warehouse.pk, sku_id=a.pk, safety_stock=5, actor=STOCK_ACTOR)
    transfer = _create(warehouse, store, [(a, 10)])

    transfers.dispatch_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR)

    assert level_of(warehouse, a).on_hand == 0


def test_receive_transfer_adds_units_at_destination_when_in_transit(stock):
    warehouse, store, (a, b) = stock
    transfer = _create(warehouse, store, [(a, 4), (b, 1)])
    transfers.dispatch_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR)

    received = transfers.receive_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR)

    assert received.state == TransferState.RECEIVED
    assert received.received_at is not None
    assert (level_of(store, a).on_hand, level_of(store, b).on_hand) == (4, 1)
    assert _movements(transfer)[2:] == [
        (store.pk, a.pk, MovementKind.TRANSFER_IN, 4, ""),
        (store.pk, b.pk, MovementKind.TRANSFER_IN, 1, ""),
    ]
    assert transfer_selectors.list_in_transit() == []
    assert AuditEntry.objects.filter(action="transfer.received").count() == 1
    call_command("check_stock_ledger")


def test_transfer_stock_creates_and_dispatches_when_units_are_free(stock):
    warehouse, store, (a, _) = stock

    transfer = transfers.transfer_stock(
        source_id=warehouse.pk,
        destination_id=store.pk,
        lines=[(a.pk, 6)],
        actor=STOCK_ACTOR,
        note="opening",
    )

    assert transfer.state == TransferState.IN_TRANSIT
    assert transfer.note == "opening"
    assert level_of(warehouse, a).on_hand == 4
    assert transfer_selectors.in_transit_by_sku(sku_ids=[a.pk]) == {a.pk: 6}


def test_transfer_stock_leaves_no_transfer_behind_when_stock_is_short(stock):
    warehouse, store, (a, _) = stock

    with pytest.raises(InsufficientStockError):
        transfers.transfer_stock(
            source_id=warehouse.pk, destination_id=store.pk, lines=[(a.pk, 11)], actor=STOCK_ACTOR
        )

    assert not Transfer.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="transfer.").exists()


def test_cancel_transfer_moves_nothing_when_draft(stock):
    warehouse, store, (a, _) = stock
    transfer = _create(warehouse, store, [(a, 4)])

    cancelled = transfers.cancel_transfer(
        transfer_id=transfer.pk, actor=STOCK_ACTOR, reason="duplicate"
    )

    assert cancelled.state == TransferState.CANCELLED
    assert cancelled.cancelled_at is not None
    assert _movements(transfer) == []
    entry = AuditEntry.objects.get(action="transfer.cancelled")
    assert entry.reason == "duplicate"
    assert entry.changes["state"] == [TransferState.DRAFT, TransferState.CANCELLED]


def test_cancel_transfer_returns_units_to_source_with_reason_when_in_transit(stock):
    warehouse, store, (a, _) = stock
    transfer = transfers.transfer_stock(
        source_id=warehouse.pk, destination_id=store.pk, lines=[(a.pk, 4)], actor=STOCK_ACTOR
    )

    transfers.cancel_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR, reason="truck broke down")

    assert level_of(warehouse, a).on_hand == 10
    assert _movements(transfer) == [
        (warehouse.pk, a.pk, MovementKind.TRANSFER_OUT, -4, ""),
        (warehouse.pk, a.pk, MovementKind.TRANSFER_IN, 4, "truck broke down"),
    ]
    assert transfer_selectors.list_in_transit() == []
    call_command("check_stock_ledger")


def test_cancel_transfer_refuses_when_reason_is_blank(stock):
    warehouse, store, (a, _) = stock
    transfer = _create(warehouse, store, [(a, 4)])

    with pytest.raises(ReasonRequiredError):
        transfers.cancel_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR, reason="  ")

    transfer.refresh_from_db()
    assert transfer.state == TransferState.DRAFT


def _to_state(transfer, state):
    if state in (TransferState.IN_TRANSIT, TransferState.RECEIVED):
        transfers.dispatch_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR)
    if state == TransferState.RECEIVED:
        transfers.receive_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR)
    if state == TransferState.CANCELLED:
        transfers.cancel_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR, reason="test")


_ACTIONS = {
    "dispatch": lambda pk: transfers.dispatch_transfer(transfer_id=pk, actor=STOCK_ACTOR),
    "receive": lambda pk: transfers.receive_transfer(transfer_id=pk, actor=STOCK_ACTOR),
    "cancel": lambda pk: transfers.cancel_transfer(transfer_id=pk, actor=STOCK_ACTOR, reason="x"),
}


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (TransferState.DRAFT, "receive"),
        (TransferState.IN_TRANSIT, "dispatch"),
        (TransferState.RECEIVED, "dispatch"),
        (TransferState.RECEIVED, "receive"),
        (TransferState.RECEIVED, "cancel"),
        (TransferState.CANCELLED, "dispatch"),
        (TransferState.CANCELLED, "receive"),
        (TransferState.CANCELLED, "cancel"),
    ],
)
def test_transfer_refuses_with_conflict_when_state_does_not_allow_the_change(stock, state, action):
    warehouse, store, (a, _) = stock
    transfer = _create(warehouse, store, [(a, 4)])
    _to_state(transfer, state)
    movements = _movements(transfer)
    audited = AuditEntry.objects.count()

    with pytest.raises(TransferStateError) as refused:
        _ACTIONS[action](transfer.pk)

    assert refused.value.status == 409
    assert refused.value.details == {"transfer_id": transfer.pk, "state": state}
    transfer.refresh_from_db()
    assert transfer.state == state
    assert _movements(transfer) == movements
    assert AuditEntry.objects.count() == audited


@pytest.mark.parametrize("action", sorted(_ACTIONS))
def test_transfer_refuses_with_not_found_when_transfer_is_unknown(action):
    with pytest.raises(TransferNotFoundError) as refused:
        _ACTIONS[action](999_999)

    assert refused.value.status == 404


def test_list_in_transit_sums_open_transfers_per_sku_and_destination(
    stock, django_assert_num_queries
):
    warehouse, store, (a, b) = stock
    other_store = make_location("store-tr-2")
    transfers.transfer_stock(
        source_id=warehouse.pk, destination_id=store.pk, lines=[(a.pk, 1)], actor=STOCK_ACTOR
    )
    transfers.transfer_stock(
        source_id=warehouse.pk,
        destination_id=store.pk,
        lines=[(a.pk, 2), (b.pk, 1)],
        actor=STOCK_ACTOR,
    )
    transfers.transfer_stock(
        source_id=warehouse.pk, destination_id=other_store.pk, lines=[(a.pk, 3)], actor=STOCK_ACTOR
    )
    _create(warehouse, store, [(a, 5)])  # a draft is not on the road

    with django_assert_num_queries(1):
        rows = transfer_selectors.list_in_transit()

    assert [(r.sku_id, r.location_id, r.quantity) for r in rows] == [
        (a.pk, store.pk, 3),
        (a.pk, other_store.pk, 3),
        (b.pk, store.pk, 1),
    ]
    assert [r.quantity for r in transfer_selectors.list_in_transit(location_id=store.pk)] == [3, 1]
    assert transfer_selectors.in_transit_by_sku() == {a.pk: 6, b.pk: 1}
