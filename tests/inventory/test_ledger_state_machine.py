"""Any sequence of stock operations keeps the counters valid and equal to the ledger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import ClassVar, TypeVar

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from omnimall.core import clock
from omnimall.inventory import selectors, services
from omnimall.inventory.domain import Shortage, available_to_sell, find_ledger_mismatches
from omnimall.inventory.errors import (
    AdjustmentBelowReservedError,
    InsufficientStockError,
    ReservationExpiredError,
    ReservationStateError,
    TransferStateError,
)
from omnimall.inventory.models import StockLevel, TransferState
from omnimall.inventory.selectors import transfers as transfer_selectors
from omnimall.inventory.services import transfers
from tests.inventory.factories import STOCK_ACTOR, make_location, make_skus

Key = tuple[int, int]  # (location_id, sku_id)
CHANNELS = (None, "online", "stores")  # the two channels come from a data migration
BASKET_HOLD = timedelta(minutes=5)
T = TypeVar("T")


@dataclass
class ModelHold:
    key: Key
    quantity: int
    expires_at: datetime
    ended: bool = False  # committed, released or expired by a sweep
    committed: bool = False


@dataclass
class ModelTransfer:
    source: int
    destination: int
    lines: dict[int, int]  # sku_id → quantity
    state: str = TransferState.DRAFT


def _attempt(call: Callable[[], T]) -> tuple[T | None, list[Shortage]]:
    """(result, []) or, when the service refuses for want of stock, (None, shortages)."""
    try:
        return call(), []
    except InsufficientStockError as refused:
        return None, list(refused.shortages)


def _merge(pairs: list[tuple[Key, int]]) -> dict[Key, int]:
    merged: dict[Key, int] = {}
    for key, quantity in pairs:
        merged[key] = merged.get(key, 0) + quantity
    return merged


class StockLedgerMachine(RuleBasedStateMachine):
    """Drives the services against a plain-Python model of two SKUs at two locations."""

    sku_ids: ClassVar[list[int]]
    holds = Bundle("holds")
    transfers = Bundle("transfers")

    @initialize(stock=st.lists(st.integers(0, 10), min_size=4, max_size=4))
    def set_up(self, stock: list[int]) -> None:
        # Each example runs in a savepoint rolled back by ``teardown``: examples never see
        # each other's rows, and the database (and each check) stays small.
        self.example = transaction.atomic()
        self.example.__enter__()
        self.locations = [make_location().pk for _ in range(2)]
        self.now = clock.now()
        self.keys = [(loc, sku) for loc in self.locations for sku in self.sku_ids]
        self.on_hand = dict.fromkeys(self.keys, 0)
        self.safety = dict.fromkeys(self.keys, 0)
        self.channel_rules: dict[tuple[str, int | None], int] = {}
        self.model_holds: dict[int, ModelHold] = {}
        self.model_transfers: dict[int, ModelTransfer] = {}
        for key, quantity in zip(self.keys, stock, strict=True):
            if quantity:
                self.receive_at(key, quantity)

    def teardown(self) -> None:
        if hasattr(self, "example"):
            transaction.set_rollback(True)
            self.example.__exit__(None, None, None)

    # --- the model ---------------------------------------------------------------------

    def key(self, index: int, sku_index: int) -> Key:
        return (self.locations[index], self.sku_ids[sku_index])

    def receive_at(self, key: Key, quantity: int) -> None:
        services.receive_stock(
            location_id=key[0], sku_id=key[1], quantity=quantity, actor=STOCK_ACTOR
        )
        self.on_hand[key] += quantity

    def _live(self, key: Key) -> int:
        return sum(
            h.quantity
            for h in self.model_holds.values()
            if h.key == key and not h.ended and h.expires_at > self.now
        )

    def _kept_back(self, channel: str | None, location_id: int) -> int:
        if channel is None:
            return 0
        default = self.channel_rules.get((channel, None), 0)
        return self.channel_rules.get((channel, location_id), default)

    def _available(self, key: Key, channel: str | None = None) -> int:
        return available_to_sell(
            on_hand=self.on_hand[key],
            reserved=self._live(key),
            safety_stock=self.safety[key] + self._kept_back(channel, key[0]),
        )

    def _free(self, key: Key) -> int:
        """What a transfer may take: units nobody holds (safety stock is not held)."""
        return max(self.on_hand[key] - self._live(key), 0)

    def _hold(self, reservation_id: int, key: Key, quantity: int, hold_for: timedelta) -> int:
        self.model_holds[reservation_id] = ModelHold(key, quantity, self.now + hold_for)
        return reservation_id

    # --- receipts, adjustments, safety stock -------------------------------------------

    @rule(index=st.integers(0, 1), sku_index=st.integers(0, 1), quantity=st.integers(1, 8))
    def receive(self, index: int, sku_index: int, quantity: int) -> None:
        self.receive_at(self.key(index, sku_index), quantity)

    @rule(
        index=st.integers(0, 1),
        sku_index=st.integers(0, 1),
        delta=st.integers(-10, 10).filter(bool),
    )
    def adjust(self, index: int, sku_index: int, delta: int) -> None:
        location_id, sku_id = key = self.key(index, sku_index)
        if not StockLevel.objects.filter(location_id=location_id, sku_id=sku_id).exists():
            self.receive_at(key, 1)
        reserved = StockLevel.objects.get(location_id=location_id, sku_id=sku_id).reserved
        allowed = self.on_hand[key] + delta >= reserved
        try:
            services.adjust_stock(
                location_id=location_id,
                sku_id=sku_id,
                quantity=delta,
                reason="cycle count",
                actor=STOCK_ACTOR,
            )
        except AdjustmentBelowReservedError:
            assert not allowed
        else:
            assert allowed
            self.on_hand[key] += delta

    @rule(index=st.integers(0, 1), sku_index=st.integers(0, 1), safety=st.integers(0, 2))
    def set_safety(self, index: int, sku_index: int, safety: int) -> None:
        location_id, sku_id = key = self.key(index, sku_index)
        services.set_safety_stock(
            location_id=location_id, sku_id=sku_id, safety_stock=safety, actor=STOCK_ACTOR
        )
        self.safety[key] = safety

    @rule(
        channel=st.sampled_from(["online", "stores"]),
        index=st.sampled_from([0, 1, None]),
        units=st.integers(0, 3),
    )
    def set_channel_safety(self, channel: str, index: int | None, units: int) -> None:
        location_id = None if index is None else self.locations[index]
        services.set_channel_safety_stock(
            channel_code=channel, location_id=location_id, units=units, actor=STOCK_ACTOR
        )
        self.channel_rules[(channel, location_id)] = units

    # --- reservations ------------------------------------------------------------------

    @rule(
        target=holds,
        index=st.integers(0, 1),
        sku_index=st.integers(0, 1),
        quantity=st.integers(1, 6),
        minutes=st.integers(1, 10),
        wait=st.integers(0, 8),
        channel=st.sampled_from(CHANNELS),
    )
    def reserve(
        self,
        index: int,
        sku_index: int,
        quantity: int,
        minutes: int,
        wait: int,
        channel: str | None,
    ):
        """Some minutes pass (holds may lapse), then a buyer asks for ``quantity``."""
        self.now += timedelta(minutes=wait)
        return self._reserve(self.key(index, sku_index), quantity, minutes, channel)

    @rule(
        target=holds,
        index=st.integers(0, 1),
        sku_index=st.integers(0, 1),
        extra=st.integers(0, 1),
        wait=st.integers(0, 8),
        channel=st.sampled_from(CHANNELS),
    )
    def reserve_the_rest(
        self, index: int, sku_index: int, extra: int, wait: int, channel: str | None
    ):
        """Ask for everything available (or one more): fills levels so lapsed holds matter."""
        self.now += timedelta(minutes=wait)
        key = self.key(index, sku_index)
        quantity = self._available(key, channel) + extra
        if quantity == 0:
            return multiple()
        return self._reserve(key, quantity, 5, channel)

    def _reserve(self, key: Key, quantity: int, minutes: int, channel: str | None):
        available = self._available(key, channel)
        reservation, shortages = _attempt(
            partial(
                services.reserve_stock,
                location_id=key[0],
                sku_id=key[1],
                quantity=quantity,
                hold_for=timedelta(minutes=minutes),
                channel_code=channel,
                now=self.now,
            )
        )
        if reservation is None:
            assert available < quantity
            assert shortages[0].available == available
            return multiple()
        assert available >= quantity
        return self._hold(reservation.pk, key, quantity, timedelta(minutes=minutes))

    @rule(
        target=holds,
        lines=st.lists(
            st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(1, 4)),
            min_size=1,
            max_size=3,
        ),
        wait=st.integers(0, 8),
        channel=st.sampled_from(CHANNELS),
    )
    def reserve_basket(self, lines: list[tuple[int, int, int]], wait: int, channel: str | None):
        """A basket of lines (maybe naming a level twice): all held, or none."""
        self.now += timedelta(minutes=wait)
        pairs = [(self.key(index, sku_index), q) for index, sku_index, q in lines]
        merged = _merge(pairs)
        short = [
            (key, quantity, self._available(key, channel))
            for key, quantity in merged.items()
            if self._available(key, channel) < quantity
        ]
        held, shortages = _attempt(
            partial(
                services.reserve_basket,
                lines=[(*key, quantity) for key, quantity in pairs],
                hold_for=BASKET_HOLD,
                channel_code=channel,
                now=self.now,
            )
        )
        if held is None:
            assert [((s.location_id, s.sku_id), s.requested, s.available) for s in shortages] == (
                short
            )
            return multiple()
        assert short == []
        assert [(r.level.location_id, r.level.sku_id, r.quantity) for r in held] == [
            (*key, quantity) for key, quantity in merged.items()
        ]
        return multiple(
            *(
                self._hold(r.pk, key, quantity, BASKET_HOLD)
                for r, (key, quantity) in zip(held, merged.items(), strict=True)
            )
        )

    @rule(reservation_id=holds)
    def commit(self, reservation_id: int) -> None:
        hold = self.model_holds[reservation_id]
        try:
            services.commit_reservation(
                reservation_id=reservation_id, actor=STOCK_ACTOR, now=self.now
            )
        except ReservationStateError:
            assert hold.ended or hold.expires_at <= self.now
        except ReservationExpiredError:
            assert not hold.ended
            assert hold.expires_at <= self.now
        else:
            assert not hold.ended
            assert hold.expires_at > self.now
            hold.ended = hold.committed = True
            self.on_hand[hold.key] -= hold.quantity

    @rule(reservation_id=holds)
    def release(self, reservation_id: int) -> None:
        hold = self.model_holds[reservation_id]
        try:
            services.release_reservation(reservation_id=reservation_id)
        except ReservationStateError:
            assert hold.committed
        else:
            assert not hold.committed
            hold.ended = True

    @rule(minutes=st.integers(1, 8))
    def advance_clock(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule()
    def sweep(self) -> None:
        services.release_expired_reservations(now=self.now, batch_size=3)
        for hold in self.model_holds.values():
            if not hold.ended and hold.expires_at <= self.now:
                hold.ended = True

    # --- transfers (their services read the clock: it is moved to the model's now) ------

    @rule(
        target=transfers,
        source=st.integers(0, 1),
        lines=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 5)), min_size=1, max_size=3),
        dispatch=st.booleans(),
    )
    def create_transfer(self, source: int, lines: list[tuple[int, int]], dispatch: bool):
        """A draft, or (``transfer_stock``) a transfer created and dispatched at once."""
        src, dst = self.locations[source], self.locations[1 - source]
        sku_lines = [(self.sku_ids[sku_index], quantity) for sku_index, quantity in lines]
        model = ModelTransfer(src, dst, {})
        for sku_id, quantity in sku_lines:
            model.lines[sku_id] = model.lines.get(sku_id, 0) + quantity
        arguments = {
            "source_id": src,
            "destination_id": dst,
            "lines": sku_lines,
            "actor": STOCK_ACTOR,
        }
        if not dispatch:
            return self._track(transfers.create_transfer(**arguments).pk, model)
        short = self._short_at_source(model)
        with time_machine.travel(self.now, tick=False):
            transfer, shortages = _attempt(partial(transfers.transfer_stock, **arguments))
        if transfer is None:
            assert self._shortages(shortages) == short
            return multiple()  # nothing was created
        assert short == []
        self._take_from_source(model)
        return self._track(transfer.pk, model)

    def _track(self, transfer_id: int, model: ModelTransfer) -> int:
        self.model_transfers[transfer_id] = model
        return transfer_id

    def _short_at_source(self, model: ModelTransfer) -> list[tuple[int, int, int]]:
        return [
            (sku_id, quantity, self._free((model.source, sku_id)))
            for sku_id, quantity in model.lines.items()
            if self._free((model.source, sku_id)) < quantity
        ]

    @staticmethod
    def _shortages(shortages: list[Shortage]) -> list[tuple[int, int, int]]:
        return [(s.sku_id, s.requested, s.available) for s in shortages]

    def _take_from_source(self, model: ModelTransfer) -> None:
        for sku_id, quantity in model.lines.items():
            self.on_hand[(model.source, sku_id)] -= quantity
        model.state = TransferState.IN_TRANSIT

    @rule(transfer_id=transfers)
    def dispatch(self, transfer_id: int) -> None:
        model = self.model_transfers[transfer_id]
        short = self._short_at_source(model)
        try:
            with time_machine.travel(self.now, tick=False):
                dispatched, shortages = _attempt(
                    partial(transfers.dispatch_transfer, transfer_id=transfer_id, actor=STOCK_ACTOR)
                )
        except TransferStateError:
            assert model.state != TransferState.DRAFT
            return
        assert model.state == TransferState.DRAFT
        if dispatched is None:
            assert self._shortages(shortages) == short
            return
        assert short == []
        self._take_from_source(model)

    @rule(transfer_id=transfers)
    def receive_transfer(self, transfer_id: int) -> None:
        model = self.model_transfers[transfer_id]
        try:
            transfers.receive_transfer(transfer_id=transfer_id, actor=STOCK_ACTOR)
        except TransferStateError:
            assert model.state != TransferState.IN_TRANSIT
            return
        assert model.state == TransferState.IN_TRANSIT
        for sku_id, quantity in model.lines.items():
            self.on_hand[(model.destination, sku_id)] += quantity
        model.state = TransferState.RECEIVED

    @rule(transfer_id=transfers)
    def cancel_transfer(self, transfer_id: int) -> None:
        model = self.model_transfers[transfer_id]
        try:
            transfers.cancel_transfer(transfer_id=transfer_id, actor=STOCK_ACTOR, reason="no van")
        except TransferStateError:
            assert model.state in (TransferState.RECEIVED, TransferState.CANCELLED)
            return
        if model.state == TransferState.IN_TRANSIT:
            for sku_id, quantity in model.lines.items():
                self.on_hand[(model.source, sku_id)] += quantity
        else:
            assert model.state == TransferState.DRAFT
        model.state = TransferState.CANCELLED

    # --- invariants --------------------------------------------------------------------

    @invariant()
    def counters_are_valid_and_match_the_ledger(self) -> None:
        if not hasattr(self, "locations"):
            return
        for level in StockLevel.objects.all():
            assert level.on_hand >= 0
            assert 0 <= level.reserved <= level.on_hand
            assert level.on_hand == self.on_hand[(level.location_id, level.sku_id)]
        assert find_ledger_mismatches(selectors.iter_level_balances()) == []

    @invariant()
    def availability_counts_only_live_holds_and_channel_rules(self) -> None:
        if not hasattr(self, "locations"):
            return
        # One channel view per step, in turn (no channel, online, stores): each selector call
        # costs a few milliseconds to build, and every view is still checked every 3rd step.
        self.checks = getattr(self, "checks", -1) + 1
        channel = CHANNELS[self.checks % len(CHANNELS)]
        result = selectors.list_sku_availability(
            sku_ids=self.sku_ids, now=self.now, channel_code=channel
        )
        for sku_id, availability in result.items():
            assert {row.location_id for row in availability.locations} <= set(self.locations)
            for row in availability.locations:
                key = (row.location_id, sku_id)
                assert row.reserved == self._live(key)
                assert row.available == self._available(key, channel)

    @invariant()
    def units_in_transit_are_the_open_transfers(self) -> None:
        if not hasattr(self, "locations"):
            return
        expected: dict[Key, int] = {}
        for model in self.model_transfers.values():
            if model.state == TransferState.IN_TRANSIT:
                for sku_id, quantity in model.lines.items():
                    key = (model.destination, sku_id)
                    expected[key] = expected.get(key, 0) + quantity
        rows = transfer_selectors.list_in_transit(sku_ids=self.sku_ids)
        assert {(r.location_id, r.sku_id): r.quantity for r in rows} == expected


@pytest.mark.django_db
def test_stock_ledger_keeps_invariants_when_any_operations_run_in_any_order():
    StockLedgerMachine.sku_ids = [sku.pk for sku in make_skus(2)]

    run_state_machine_as_test(
        StockLedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            database=None,
            # Shrinking replays hundreds of database-backed runs; an unshrunk failing
            # sequence of at most 25 steps is readable enough.
            phases=(Phase.explicit, Phase.generate),
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
