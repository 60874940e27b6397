from __future__ import annotations

from datetime import timedelta

import pytest

from omnimall.core import clock
from omnimall.core.models import AuditEntry
from omnimall.inventory import services
from omnimall.inventory.errors import (
    AdjustmentBelowReservedError,
    InsufficientStockError,
    InvalidQuantityError,
    ReasonRequiredError,
    ReservationExpiredError,
    ReservationStateError,
    SkuNotFoundError,
    StockLocationNotFoundError,
)
from omnimall.inventory.models import MovementKind, ReservationState, StockLevel, StockMovement
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock():
    """A warehouse holding 10 units of one SKU."""
    location = make_location("wh-east")
    (sku,) = make_skus()
    services.receive_stock(
        location_id=location.pk, sku_id=sku.pk, quantity=10, actor=STOCK_ACTOR, reference="PO-1"
    )
    return location, sku


def _reserve(location, sku, quantity, **kwargs):
    return services.reserve_stock(
        location_id=location.pk, sku_id=sku.pk, quantity=quantity, **kwargs
    )


def test_receive_stock_adds_units_and_ledger_row_when_goods_arrive(stock):
    location, sku = stock

    services.receive_stock(
        location_id=location.pk, sku_id=sku.pk, quantity=5, actor=STOCK_ACTOR, reference="PO-2"
    )

    level = level_of(location, sku)
    assert level.on_hand == 15
    assert list(level.movements.order_by("pk").values_list("kind", "quantity", "reference")) == [
        (MovementKind.RECEIPT, 10, "PO-1"),
        (MovementKind.RECEIPT, 5, "PO-2"),
    ]
    assert AuditEntry.objects.filter(action="stock.received", subject_id=str(level.pk)).count() == 2


@pytest.mark.parametrize("quantity", [0, -3, True, 2.5])
def test_receive_stock_refuses_when_quantity_is_not_a_positive_integer(stock, quantity):
    location, sku = stock

    with pytest.raises(InvalidQuantityError):
        services.receive_stock(
            location_id=location.pk, sku_id=sku.pk, quantity=quantity, actor=STOCK_ACTOR
        )

    assert level_of(location, sku).on_hand == 10


def test_receive_stock_refuses_when_location_or_sku_is_unknown(stock):
    location, sku = stock

    with pytest.raises(StockLocationNotFoundError):
        services.receive_stock(location_id=999_999, sku_id=sku.pk, quantity=1, actor=STOCK_ACTOR)
    with pytest.raises(SkuNotFoundError):
        services.receive_stock(
            location_id=location.pk, sku_id=999_999, quantity=1, actor=STOCK_ACTOR
        )

    assert StockLevel.objects.count() == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_adjust_stock_refuses_when_reason_is_blank(stock, reason):
    location, sku = stock

    with pytest.raises(ReasonRequiredError) as refused:
        services.adjust_stock(
            location_id=location.pk, sku_id=sku.pk, quantity=-2, reason=reason, actor=STOCK_ACTOR
        )

    assert refused.value.code == "reason_required"
    assert level_of(location, sku).on_hand == 10
    assert StockMovement.objects.count() == 1


def test_adjust_stock_writes_signed_movement_with_reason_when_units_are_damaged(stock):
    location, sku = stock

    movement = services.adjust_stock(
        location_id=location.pk,
        sku_id=sku.pk,
        quantity=-3,
        reason="water damage",
        actor=STOCK_ACTOR,
    )

    assert level_of(location, sku).on_hand == 7
    assert (movement.kind, movement.quantity, movement.reason) == (
        MovementKind.ADJUSTMENT,
        -3,
        "water damage",
    )
    assert AuditEntry.objects.get(action="stock.adjustment").reason == "water damage"


def test_adjust_stock_refuses_when_decrease_would_go_below_reserved(stock):
    location, sku = stock
    _reserve(location, sku, 8)

    with pytest.raises(AdjustmentBelowReservedError) as refused:
        services.adjust_stock(
            location_id=location.pk, sku_id=sku.pk, quantity=-3, reason="lost", actor=STOCK_ACTOR
        )

    assert refused.value.status == 409
    assert refused.value.details == {"quantity": -3, "on_hand": 10, "reserved": 8}
    assert level_of(location, sku).on_hand == 10


def test_reserve_stock_holds_units_when_enough_is_available(stock):
    location, sku = stock
    now = clock.now()

    reservation = _reserve(
        location,
        sku,
        4,
        owner_type="checkout",
        owner_id="c-1",
        now=now,
        hold_for=timedelta(minutes=10),
    )

    assert level_of(location, sku).reserved == 4
    assert reservation.state == ReservationState.HELD
    assert reservation.expires_at == now + timedelta(minutes=10)
    assert (reservation.owner_type, reservation.owner_id) == ("checkout", "c-1")


def test_reserve_stock_refuses_with_out_of_stock_when_quantity_exceeds_available(stock):
    location, sku = stock
    _reserve(location, sku, 7)

    with pytest.raises(InsufficientStockError) as refused:
        _reserve(location, sku, 4)

    error = refused.value
    assert (error.code, error.status) == ("out_of_stock", 409)
    assert error.details == {
        "shortages": [
            {
                "sku_id": sku.pk,
                "location_id": location.pk,
                "requested": 4,
                "available": 3,
                "sku": sku.code,
                "location": location.code,
            }
        ]
    }
    assert level_of(location, sku).reserved == 7


def test_reserve_stock_refuses_when_units_are_kept_as_safety_stock(stock):
    location, sku = stock
    services.set_safety_stock(
        location_id=location.pk, sku_id=sku.pk, safety_stock=3, actor=STOCK_ACTOR
    )

    _reserve(location, sku, 7)
    with pytest.raises(InsufficientStockError):
        _reserve(location, sku, 1)

    assert level_of(location, sku).reserved == 7
    assert AuditEntry.objects.filter(action="stock.safety_stock_set").exists()


def test_reserve_stock_refuses_when_sku_has_no_stock_at_location(stock):
    _, sku = stock
    other = make_location("store-1")

    with pytest.raises(InsufficientStockError) as refused:
        _reserve(other, sku, 1)

    assert refused.value.details["shortages"][0]["available"] == 0


def test_reserve_stock_refuses_when_location_is_inactive(stock):
    location, sku = stock
    type(location).objects.filter(pk=location.pk).update(is_active=False)

    with pytest.raises(InsufficientStockError):
        _reserve(location, sku, 1)

    assert level_of(location, sku).reserved == 0


def test_reserve_stock_reuses_units_of_lapsed_hold_when_no_sweeper_ran(stock):
    location, sku = stock
    start = clock.now()
    old = _reserve(location, sku, 10, now=start, hold_for=timedelta(minutes=15))

    fresh = _reserve(location, sku, 6, now=start + timedelta(minutes=16))

    old.refresh_from_db()
    assert old.state == ReservationState.EXPIRED
    assert fresh.state == ReservationState.HELD
    assert level_of(location, sku).reserved == 6


def test_commit_reservation_writes_sale_and_frees_hold_when_order_ships(stock):
    location, sku = stock
    reservation = _reserve(location, sku, 4, reference="order-7")

    movement = services.commit_reservation(reservation_id=reservation.pk, actor=STOCK_ACTOR)

    level = level_of(location, sku)
    assert (level.on_hand, level.reserved) == (6, 0)
    assert (movement.kind, movement.quantity, movement.reference) == (
        MovementKind.SALE,
        -4,
        "order-7",
    )
    assert movement.reservation_id == reservation.pk
    reservation.refresh_from_db()
    assert reservation.state == ReservationState.COMMITTED


def test_commit_reservation_refuses_when_already_committed(stock):
    location, sku = stock
    reservation = _reserve(location, sku, 4)
    services.commit_reservation(reservation_id=reservation.pk, actor=STOCK_ACTOR)

    with pytest.raises(ReservationStateError):
        services.commit_reservation(reservation_id=reservation.pk, actor=STOCK_ACTOR)

    assert level_of(location, sku).on_hand == 6


def test_commit_reservation_refuses_when_hold_has_expired(stock):
    location, sku = stock
    start = clock.now()
    reservation = _reserve(location, sku, 4, now=start, hold_for=timedelta(minutes=5))

    with pytest.raises(ReservationExpiredError):
        services.commit_reservation(
            reservation_id=reservation.pk, actor=STOCK_ACTOR, now=start + timedelta(minutes=5)
        )

    assert level_of(location, sku).on_hand == 10


def test_release_reservation_returns_units_once_when_called_twice(stock):
    location, sku = stock
    reservation = _reserve(location, sku, 4)

    services.release_reservation(reservation_id=reservation.pk)
    again = services.release_reservation(reservation_id=reservation.pk)

    assert again.state == ReservationState.RELEASED
    assert level_of(location, sku).reserved == 0


def test_release_reservation_refuses_when_already_committed(stock):
    location, sku = stock
    reservation = _reserve(location, sku, 4)
    services.commit_reservation(reservation_id=reservation.pk, actor=STOCK_ACTOR)

    with pytest.raises(ReservationStateError):
        services.release_reservation(reservation_id=reservation.pk)

    assert (level_of(location, sku).on_hand, level_of(location, sku).reserved) == (6, 0)


def test_release_expired_reservations_expires_only_due_holds_when_run_twice(stock):
    location, sku = stock
    start = clock.now()
    due = [_reserve(location, sku, 1, now=start, hold_for=timedelta(minutes=5)) for _ in range(5)]
    live = _reserve(location, sku, 2, now=start, hold_for=timedelta(hours=1))
    later = start + timedelta(minutes=10)

    first = services.release_expired_reservations(now=later, batch_size=2)
    second = services.release_expired_reservations(now=later, batch_size=2)

    assert (first, second) == (5, 0)
    assert {r.state for r in type(live).objects.filter(pk__in=[r.pk for r in due])} == {
        ReservationState.EXPIRED
    }
    live.refresh_from_db()
    assert live.state == ReservationState.HELD
    assert level_of(location, sku).reserved == 2


def test_release_expired_reservations_task_expires_lapsed_holds_when_run(stock):
    from omnimall.inventory.tasks import release_expired_reservations_task

    location, sku = stock
    lapsed = _reserve(
        location, sku, 3, now=clock.now() - timedelta(hours=1), hold_for=timedelta(minutes=5)
    )

    result = release_expired_reservations_task.apply().get()

    lapsed.refresh_from_db()
    assert (result, lapsed.state) == (1, ReservationState.EXPIRED)
    assert level_of(location, sku).reserved == 0
