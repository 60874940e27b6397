"""Flash-sale mode: buckets, draws, fallback to the pool, the ledger, races, any sequence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
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
from omnimall.core.models import AuditEntry
from omnimall.inventory import selectors, services
from omnimall.inventory.domain import find_ledger_mismatches
from omnimall.inventory.errors import (
    InsufficientStockError,
    InvalidQuantityError,
    ReservationExpiredError,
    ReservationStateError,
    StockLevelNotFoundError,
)
from omnimall.inventory.models import FlashBucket, Reservation, ReservationState, StockLevel
from omnimall.inventory.services import flash
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus
from tests.races import run_together


def _stocked(units: int, *, code: str = "wh-flash"):
    location = make_location(code)
    (sku,) = make_skus()
    services.receive_stock(
        location_id=location.pk, sku_id=sku.pk, quantity=units, actor=STOCK_ACTOR
    )
    return location, sku, level_of(location, sku)


def _buckets(level) -> list[int]:
    return list(
        FlashBucket.objects.filter(level=level).order_by("slot").values_list("remaining", flat=True)
    )


def _reserve(location, sku, quantity: int = 1, **kwargs):
    return services.reserve_stock(
        location_id=location.pk, sku_id=sku.pk, quantity=quantity, **kwargs
    )


def _assert_ledger_exact() -> None:
    assert find_ledger_mismatches(selectors.iter_level_balances()) == []


# --- enabling and disabling ----------------------------------------------------------


@pytest.mark.django_db
def test_enable_flash_sale_buckets_the_sellable_units_evenly_when_holds_and_safety_exist():
    location, sku, level = _stocked(100)
    _reserve(location, sku, 10)
    services.set_safety_stock(
        location_id=location.pk, sku_id=sku.pk, safety_stock=5, actor=STOCK_ACTOR
    )

    bucketed = flash.enable_flash_sale(level_id=level.pk, buckets=4, actor=STOCK_ACTOR)

    assert bucketed == 85
    assert _buckets(level) == [22, 21, 21, 21]
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (100, 95)
    _assert_ledger_exact()
    entry = AuditEntry.objects.get(action="stock.flash_sale_enabled")
    assert entry.subject_id == str(level.pk)
    assert entry.changes["bucketed"] == [0, 85]


@pytest.mark.django_db
def test_enable_flash_sale_counts_lapsed_holds_as_released():
    location, sku, level = _stocked(10)
    start = clock.now()
    lapsed = _reserve(location, sku, 4, now=start - timedelta(hours=1))

    bucketed = flash.enable_flash_sale(level_id=level.pk, buckets=2, actor=STOCK_ACTOR)

    assert bucketed == 10
    assert Reservation.objects.get(pk=lapsed.pk).state == ReservationState.EXPIRED
    _assert_ledger_exact()


@pytest.mark.django_db
def test_enable_flash_sale_keeps_the_largest_channel_safety_stock_in_the_pool():
    location, _, level = _stocked(20)
    services.set_channel_safety_stock(
        channel_code="online", location_id=location.pk, units=3, actor=STOCK_ACTOR
    )

    assert flash.enable_flash_sale(level_id=level.pk, buckets=2, actor=STOCK_ACTOR) == 17


@pytest.mark.django_db
def test_enable_flash_sale_again_resplits_over_the_new_bucket_count():
    location, sku, level = _stocked(12)
    flash.enable_flash_sale(level_id=level.pk, buckets=4, actor=STOCK_ACTOR)
    _reserve(location, sku, 2)

    assert flash.enable_flash_sale(level_id=level.pk, buckets=3, actor=STOCK_ACTOR) == 10

    assert _buckets(level) == [4, 3, 3]
    _assert_ledger_exact()


@pytest.mark.django_db
def test_disable_flash_sale_merges_the_buckets_back_when_some_units_were_drawn():
    location, sku, level = _stocked(20)
    flash.enable_flash_sale(level_id=level.pk, buckets=4, actor=STOCK_ACTOR)
    _reserve(location, sku, 3)

    merged = flash.disable_flash_sale(level_id=level.pk, actor=STOCK_ACTOR)

    assert merged == 17
    assert _buckets(level) == []
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (20, 3)
    assert selectors.get_sku_availability(sku_id=sku.pk).available == 17
    _assert_ledger_exact()
    assert AuditEntry.objects.filter(action="stock.flash_sale_disabled").count() == 1


@pytest.mark.django_db
def test_disable_flash_sale_changes_nothing_when_the_level_has_no_buckets():
    _, _, level = _stocked(5)

    assert flash.disable_flash_sale(level_id=level.pk, actor=STOCK_ACTOR) == 0

    assert not AuditEntry.objects.filter(action="stock.flash_sale_disabled").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("buckets", [0, -1, flash.MAX_BUCKETS + 1, True, "4"])
def test_enable_flash_sale_refuses_when_the_bucket_count_is_invalid(buckets):
    _, _, level = _stocked(5)

    with pytest.raises(InvalidQuantityError):
        flash.enable_flash_sale(level_id=level.pk, buckets=buckets, actor=STOCK_ACTOR)

    assert _buckets(level) == []


@pytest.mark.django_db
def test_enable_flash_sale_refuses_when_the_level_does_not_exist():
    with pytest.raises(StockLevelNotFoundError):
        flash.enable_flash_sale(level_id=987654, buckets=2, actor=STOCK_ACTOR)


@pytest.mark.django_db
def test_refill_flash_sale_spreads_receipts_over_the_buckets():
    location, sku, level = _stocked(8)
    flash.enable_flash_sale(level_id=level.pk, buckets=2, actor=STOCK_ACTOR)
    services.receive_stock(location_id=location.pk, sku_id=sku.pk, quantity=5, actor=STOCK_ACTOR)
    assert _buckets(level) == [4, 4]  # receipts stay in the pool

    assert flash.refill_flash_sale(level_id=level.pk, actor=STOCK_ACTOR) == 13

    assert _buckets(level) == [7, 6]
    _assert_ledger_exact()


@pytest.mark.django_db
def test_refill_flash_sale_does_nothing_when_not_in_flash_mode():
    _, _, level = _stocked(8)

    assert flash.refill_flash_sale(level_id=level.pk, actor=STOCK_ACTOR) == 0

    assert _buckets(level) == []


# --- reserving in flash-sale mode ----------------------------------------------------


@pytest.mark.django_db
def test_reserve_stock_draws_from_a_bucket_without_touching_the_level_when_in_flash_mode():
    location, sku, level = _stocked(8)
    flash.enable_flash_sale(level_id=level.pk, buckets=4, actor=STOCK_ACTOR)

    reservation = _reserve(location, sku, 2)

    assert reservation.state == ReservationState.HELD
    assert sorted(_buckets(level)) == [0, 2, 2, 2]
    level.refresh_from_db()
    assert level.reserved == 8  # already counted the bucketed units
    _assert_ledger_exact()


@pytest.mark.django_db
def test_reserve_stock_falls_back_to_the_pool_when_every_bucket_is_empty():
    location, sku, level = _stocked(4)
    flash.enable_flash_sale(level_id=level.pk, buckets=2, actor=STOCK_ACTOR)
    services.receive_stock(location_id=location.pk, sku_id=sku.pk, quantity=3, actor=STOCK_ACTOR)

    holds = [_reserve(location, sku) for _ in range(7)]

    assert len(holds) == 7
    assert _buckets(level) == [0, 0]
    with pytest.raises(InsufficientStockError) as refused:
        _reserve(location, sku)
    assert refused.value.shortages[0].available == 0
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (7, 7)
    _assert_ledger_exact()


@pytest.mark.django_db
def test_reserve_stock_serves_from_several_buckets_and_the_pool_when_no_bucket_is_enough():
    location, sku, level = _stocked(6)
    flash.enable_flash_sale(level_id=level.pk, buckets=3, actor=STOCK_ACTOR)
    services.receive_stock(location_id=location.pk, sku_id=sku.pk, quantity=2, actor=STOCK_ACTOR)

    reservation = _reserve(location, sku, 7)

    assert reservation.quantity == 7
    assert sum(_buckets(level)) == 0
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (8, 7)
    _assert_ledger_exact()


@pytest.mark.django_db
def test_reserve_stock_refusal_counts_bucket_units_as_available():
    location, sku, level = _stocked(6)
    flash.enable_flash_sale(level_id=level.pk, buckets=3, actor=STOCK_ACTOR)

    with pytest.raises(InsufficientStockError) as refused:
        _reserve(location, sku, 7)

    assert refused.value.shortages[0].available == 6
    assert _buckets(level) == [2, 2, 2]  # nothing moved
    _assert_ledger_exact()


@pytest.mark.django_db
def test_reserve_basket_draws_from_the_buckets_when_a_line_is_in_flash_mode():
    location, sku, level = _stocked(6)
    (plain,) = make_skus()
    services.receive_stock(location_id=location.pk, sku_id=plain.pk, quantity=2, actor=STOCK_ACTOR)
    flash.enable_flash_sale(level_id=level.pk, buckets=3, actor=STOCK_ACTOR)

    holds = services.reserve_basket(lines=[(location.pk, sku.pk, 5), (location.pk, plain.pk, 1)])

    assert [h.quantity for h in holds] == [5, 1]
    assert sum(_buckets(level)) == 1
    with pytest.raises(InsufficientStockError) as refused:
        services.reserve_basket(lines=[(location.pk, sku.pk, 2)])
    assert refused.value.shortages[0].available == 1
    _assert_ledger_exact()


@pytest.mark.django_db
def test_commit_release_and_expiry_return_units_to_the_pool_when_drawn_from_buckets():
    location, sku, level = _stocked(9)
    flash.enable_flash_sale(level_id=level.pk, buckets=3, actor=STOCK_ACTOR)
    start = clock.now()
    sold = _reserve(location, sku, 2, now=start)
    released = _reserve(location, sku, 2, now=start)
    lapsing = _reserve(location, sku, 2, now=start, hold_for=timedelta(minutes=1))

    services.commit_reservation(reservation_id=sold.pk, actor=STOCK_ACTOR, now=start)
    services.release_reservation(reservation_id=released.pk)
    assert services.release_expired_reservations(now=start + timedelta(minutes=2)) == 1

    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (7, sum(_buckets(level)))
    assert Reservation.objects.get(pk=lapsing.pk).state == ReservationState.EXPIRED
    availability = selectors.get_sku_availability(sku_id=sku.pk)
    assert availability.available == 7  # 3 left in buckets + 4 back in the pool
    _assert_ledger_exact()
    assert flash.disable_flash_sale(level_id=level.pk, actor=STOCK_ACTOR) == 3
    _assert_ledger_exact()


@pytest.mark.django_db
def test_availability_counts_bucket_units_as_available_and_not_as_reserved():
    location, sku, level = _stocked(10)
    _reserve(location, sku, 2)
    flash.enable_flash_sale(level_id=level.pk, buckets=4, actor=STOCK_ACTOR)
    _reserve(location, sku, 1)

    (row,) = selectors.list_availability_by_location(sku_id=sku.pk)

    assert (row.on_hand, row.reserved, row.available) == (10, 3, 7)


@pytest.mark.django_db
def test_reserve_stock_query_counts_in_and_out_of_flash_mode(django_assert_num_queries):
    location, sku, level = _stocked(10)
    other_location, other_sku, _ = _stocked(10, code="wh-plain")
    flash.enable_flash_sale(level_id=level.pk, buckets=1, actor=STOCK_ACTOR)

    # PostgreSQL: the lookup, then one statement that holds (or draws from a bucket) and
    # records; elsewhere: lookup, SAVEPOINT, one conditional UPDATE, INSERT, RELEASE.
    expected = 2 if connection.vendor == "postgresql" else 5
    with django_assert_num_queries(expected):
        _reserve(other_location, other_sku)
    with django_assert_num_queries(expected):
        _reserve(location, sku)


@pytest.mark.django_db
def test_check_stock_ledger_fails_when_a_bucket_was_tampered_with():
    _, _, level = _stocked(10)
    flash.enable_flash_sale(level_id=level.pk, buckets=2, actor=STOCK_ACTOR)
    FlashBucket.objects.filter(level=level, slot=0).update(remaining=6)
    out = StringIO()

    with pytest.raises(CommandError, match="1 mismatch"):
        call_command("check_stock_ledger", stdout=out)

    assert "reserved=10 but sum of held reservations + flash buckets (11)=11" in out.getvalue()


# --- the command ---------------------------------------------------------------------


@pytest.mark.django_db
def test_flash_sale_command_turns_the_mode_on_and_off():
    location, sku, level = _stocked(10)
    out = StringIO()

    call_command(
        "flash_sale",
        "on",
        "--sku",
        sku.code,
        "--location",
        location.code,
        "--buckets",
        "3",
        stdout=out,
    )
    assert "10 units in 3 buckets" in out.getvalue()
    assert _buckets(level) == [4, 3, 3]
    call_command("flash_sale", "status", "--sku", sku.code, "--location", location.code, stdout=out)
    assert "3 buckets [4, 3, 3]" in out.getvalue()
    call_command("flash_sale", "off", "--sku", sku.code, "--location", location.code, stdout=out)

    assert "10 units merged back" in out.getvalue()
    assert _buckets(level) == []
    call_command("check_stock_ledger", stdout=StringIO())


@pytest.mark.django_db
def test_flash_sale_command_fails_when_the_sku_has_no_stock_at_the_location():
    location, _, _ = _stocked(1)

    with pytest.raises(CommandError, match="No stock of SKU 'nope'"):
        call_command("flash_sale", "on", "--sku", "nope", "--location", location.code)


# --- races (PostgreSQL) --------------------------------------------------------------


def _require_postgresql() -> None:
    # As in test_concurrency: SQLite's shared in-memory test database answers concurrent
    # writers with "database table is locked" instead of waiting, and serialises them anyway.
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")


def _buy(location, sku, quantity: int = 1) -> str:
    try:
        _reserve(location, sku, quantity)
    except InsufficientStockError as refused:
        return refused.code
    return "held"


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("buckets", [1, 4, 16])
def test_reserve_stock_sells_exactly_the_last_units_when_64_buyers_race_in_flash_mode(buckets):
    _require_postgresql()
    location, sku, level = _stocked(10, code="wh-flash-race")
    flash.enable_flash_sale(level_id=level.pk, buckets=buckets, actor=STOCK_ACTOR)

    outcomes = run_together(64, lambda _: _buy(location, sku))

    assert outcomes.count("held") == 10
    assert outcomes.count("out_of_stock") == 54
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (10, 10)
    assert sum(_buckets(level)) == 0
    call_command("check_stock_ledger", stdout=StringIO())


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_no_unit_is_lost_or_oversold_when_buyers_race_enable_refill_and_disable():
    _require_postgresql()
    location, sku, level = _stocked(40, code="wh-flash-mixed")
    flash.enable_flash_sale(level_id=level.pk, buckets=8, actor=STOCK_ACTOR)

    def act(i: int) -> str:
        if i == 0:
            flash.disable_flash_sale(level_id=level.pk, actor=STOCK_ACTOR)
            return "disabled"
        if i == 1:
            flash.enable_flash_sale(level_id=level.pk, buckets=5, actor=STOCK_ACTOR)
            return "enabled"
        if i == 2:
            flash.refill_flash_sale(level_id=level.pk, actor=STOCK_ACTOR)
            return "refilled"
        return _buy(location, sku, 1 + i % 3)  # 1, 2 or 3 units

    outcomes = run_together(48, act)

    held = Reservation.objects.filter(level=level, state=ReservationState.HELD)
    held_units = sum(held.values_list("quantity", flat=True))
    level.refresh_from_db()
    assert held_units <= 40
    assert held.count() == outcomes.count("held")
    assert level.reserved == held_units + sum(_buckets(level))
    # Every refusal saw less than it asked for: nothing sellable is left but small change.
    assert 40 - held_units < 3 or "out_of_stock" not in outcomes
    call_command("check_stock_ledger", stdout=StringIO())


# --- any sequence --------------------------------------------------------------------


@dataclass
class ModelHold:
    quantity: int
    expires_at: datetime
    ended: bool = False
    committed: bool = False


class FlashSaleMachine(RuleBasedStateMachine):
    """Services against a plain-Python model of one SKU at one location, in and out of
    flash-sale mode. Which bucket a buyer draws from is random, so the model reads the
    buckets' total (never their split) and checks everything else exactly."""

    sku_id: int
    holds = Bundle("holds")

    @initialize(units=st.integers(0, 12))
    def set_up(self, units: int) -> None:
        self.location_id = make_location().pk
        self.now = clock.now()
        self.on_hand = 0
        self.safety = 0
        self.model_holds: dict[int, ModelHold] = {}
        self.receive(units + 1)

    @property
    def level_id(self) -> int:
        return StockLevel.objects.get(location_id=self.location_id, sku_id=self.sku_id).pk

    def _live(self) -> int:
        return sum(
            h.quantity for h in self.model_holds.values() if not h.ended and h.expires_at > self.now
        )

    def _bucketed(self) -> int:
        return flash.units_in_buckets(level_id=self.level_id)

    def _sellable(self) -> int:
        bucketed = self._bucketed()
        return bucketed + max(self.on_hand - self._live() - bucketed - self.safety, 0)

    def _expire_lapsed_in_model(self) -> None:
        for hold in self.model_holds.values():
            if not hold.ended and hold.expires_at <= self.now:
                hold.ended = True

    @rule(quantity=st.integers(1, 6))
    def receive(self, quantity: int) -> None:
        services.receive_stock(
            location_id=self.location_id, sku_id=self.sku_id, quantity=quantity, actor=STOCK_ACTOR
        )
        self.on_hand += quantity

    @rule(safety=st.integers(0, 2))
    def set_safety(self, safety: int) -> None:
        services.set_safety_stock(
            location_id=self.location_id,
            sku_id=self.sku_id,
            safety_stock=safety,
            actor=STOCK_ACTOR,
        )
        self.safety = safety

    @rule(buckets=st.integers(1, 4))
    def enable(self, buckets: int) -> None:
        bucketed = flash.enable_flash_sale(
            level_id=self.level_id, buckets=buckets, actor=STOCK_ACTOR, now=self.now
        )
        self._expire_lapsed_in_model()
        assert bucketed == max(self.on_hand - self._live() - self.safety, 0)
        assert flash.units_in_buckets(level_id=self.level_id) == bucketed

    @rule()
    def refill(self) -> None:
        in_mode = FlashBucket.objects.filter(level_id=self.level_id).exists()
        bucketed = flash.refill_flash_sale(level_id=self.level_id, actor=STOCK_ACTOR, now=self.now)
        if in_mode:
            self._expire_lapsed_in_model()
            assert bucketed == max(self.on_hand - self._live() - self.safety, 0)
        else:
            assert bucketed == 0

    @rule()
    def disable(self) -> None:
        before = self._bucketed()
        assert flash.disable_flash_sale(level_id=self.level_id, actor=STOCK_ACTOR) == before
        assert self._bucketed() == 0

    @rule(
        target=holds, quantity=st.integers(1, 5), minutes=st.integers(1, 10), wait=st.integers(0, 6)
    )
    def reserve(self, quantity: int, minutes: int, wait: int):
        self.now += timedelta(minutes=wait)
        sellable = self._sellable()
        try:
            reservation = services.reserve_stock(
                location_id=self.location_id,
                sku_id=self.sku_id,
                quantity=quantity,
                hold_for=timedelta(minutes=minutes),
                now=self.now,
            )
        except InsufficientStockError as refused:
            shortage = refused.shortages[0]
        else:
            shortage = None
        if shortage is not None:
            assert sellable < quantity
            assert shortage.available == sellable
            return multiple()
        assert sellable >= quantity
        self.model_holds[reservation.pk] = ModelHold(
            quantity, self.now + timedelta(minutes=minutes)
        )
        return reservation.pk

    @rule(reservation_id=holds)
    def commit(self, reservation_id: int) -> None:
        hold = self.model_holds[reservation_id]
        try:
            services.commit_reservation(
                reservation_id=reservation_id, actor=STOCK_ACTOR, now=self.now
            )
        except (ReservationStateError, ReservationExpiredError):
            assert hold.ended or hold.expires_at <= self.now
        else:
            assert not hold.ended
            assert hold.expires_at > self.now
            hold.ended = hold.committed = True
            self.on_hand -= hold.quantity

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
    def sweep_later(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        services.release_expired_reservations(now=self.now)
        self._expire_lapsed_in_model()

    @invariant()
    def counters_are_valid_and_match_the_ledger(self) -> None:
        if not hasattr(self, "location_id"):
            return
        level = StockLevel.objects.get(pk=self.level_id)
        assert level.on_hand == self.on_hand >= 0
        assert 0 <= level.reserved <= level.on_hand
        assert FlashBucket.objects.filter(level=level, remaining__lt=0).count() == 0
        _assert_ledger_exact()

    @invariant()
    def availability_counts_live_holds_and_bucket_units(self) -> None:
        if not hasattr(self, "location_id"):
            return
        rows = selectors.list_availability_by_location(sku_id=self.sku_id, now=self.now)
        (row,) = [row for row in rows if row.location_id == self.location_id]
        assert row.reserved == self._live()
        assert row.available == self._sellable()


@pytest.mark.django_db
def test_flash_sale_keeps_invariants_when_any_operations_run_in_any_order():
    FlashSaleMachine.sku_id = make_skus()[0].pk

    run_state_machine_as_test(
        FlashSaleMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            database=None,
            phases=(Phase.explicit, Phase.generate),
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
