"""Returns: request (validation table), approve / reject, receive (stock back through the
ledger), refund (order state), and that a refused step changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from omnimall.core import clock
from omnimall.core.errors import DomainError
from omnimall.inventory.domain import find_ledger_mismatches
from omnimall.inventory.models import MovementKind, StockMovement
from omnimall.inventory.selectors import iter_level_balances
from omnimall.orders import domain
from omnimall.orders.errors import InvalidReturnError, ReturnNotAllowedError
from omnimall.orders.models import (
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    ReturnRequest,
    ReturnState,
)
from omnimall.orders.services import returns
from omnimall.payments.models import EntryKind, PaymentEntry
from tests.inventory.factories import level_of, make_location, make_skus
from tests.orders.test_refunds import STAFF, paid_order


@pytest.fixture(autouse=True)
def _no_delivery(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.RETURN_WINDOW_DAYS = 14


@pytest.fixture
def skus(db):
    return make_skus(2)


@pytest.fixture
def order(skus):
    return paid_order([(skus[0], 2, "50.00"), (skus[1], 1, "30.00")], shipping="10.00")


def _lines(order: Order) -> list[OrderLine]:
    return list(order.lines.order_by("pk"))


def _received(order: Order, wanted: list[tuple[int, int]]) -> ReturnRequest:
    request = returns.request_return(order_id=order.pk, lines=wanted, reason="Too big", actor=STAFF)
    returns.approve_return(return_id=request.pk, actor=STAFF)
    store = make_location(kind="store", city="Shanghai")
    returns.receive_return(return_id=request.pk, location_id=store.pk, actor=STAFF)
    request.refresh_from_db()
    return request


def test_request_return_records_lines_number_and_timeline_event(order):
    first, second = _lines(order)

    request = returns.request_return(
        order_id=order.pk, lines=[(first.pk, 1), (second.pk, 1)], reason="Too big", actor=STAFF
    )

    assert request.number == f"{order.number}-RT1"
    assert request.state == ReturnState.REQUESTED
    assert sorted(request.lines.values_list("order_line_id", "quantity")) == [
        (first.pk, 1),
        (second.pk, 1),
    ]
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.RETURN)
    assert event.data == {"return": request.number, "step": "requested", "units": 2}


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("outside_window", ReturnNotAllowedError),
        ("not_delivered", ReturnNotAllowedError),
        ("too_many_units", InvalidReturnError),
        ("units_in_other_open_return", InvalidReturnError),
        ("no_reason", InvalidReturnError),
        ("no_lines", InvalidReturnError),
        ("zero_quantity", InvalidReturnError),
        ("line_of_another_order", InvalidReturnError),
    ],
)
def test_request_return_refuses_and_writes_nothing(skus, time_machine, case, error):
    if case == "outside_window":
        time_machine.move_to(clock.now() - timedelta(days=15))
    state = domain.SHIPPED if case == "not_delivered" else domain.DELIVERED
    order = paid_order([(skus[0], 2, "50.00")], state=state)
    if case == "outside_window":
        time_machine.move_to(clock.now() + timedelta(days=15))
    (line,) = _lines(order)
    wanted, reason = [(line.pk, 1)], "Too big"
    if case == "too_many_units":
        wanted = [(line.pk, 3)]
    elif case == "units_in_other_open_return":
        returns.request_return(order_id=order.pk, lines=[(line.pk, 2)], reason="x", actor=STAFF)
    elif case == "no_reason":
        reason = "  "
    elif case == "no_lines":
        wanted = []
    elif case == "zero_quantity":
        wanted = [(line.pk, 0)]
    elif case == "line_of_another_order":
        other = paid_order([(skus[1], 1, "30.00")])
        wanted = [(_lines(other)[0].pk, 1)]
    before = ReturnRequest.objects.count()

    with pytest.raises(error):
        returns.request_return(order_id=order.pk, lines=wanted, reason=reason, actor=STAFF)

    assert ReturnRequest.objects.count() == before


def test_request_return_allows_what_is_left_after_a_rejected_return(order):
    first, _second = _lines(order)
    request = returns.request_return(
        order_id=order.pk, lines=[(first.pk, 2)], reason="x", actor=STAFF
    )
    returns.reject_return(return_id=request.pk, reason="Worn", actor=STAFF)

    again = returns.request_return(
        order_id=order.pk, lines=[(first.pk, 2)], reason="y", actor=STAFF
    )

    assert again.number == f"{order.number}-RT2"
    request.refresh_from_db()
    assert request.state == ReturnState.REJECTED
    assert request.staff_note == "Worn"


def test_receive_return_puts_stock_back_with_return_movements_and_ledger_holds(order):
    first, second = _lines(order)

    request = _received(order, [(first.pk, 2), (second.pk, 1)])

    assert request.state == ReturnState.RECEIVED
    store = request.received_at_location
    moves = StockMovement.objects.filter(reference=request.number, kind=MovementKind.RETURN)
    assert sorted((m.level.sku_id, m.quantity) for m in moves) == sorted(
        [(first.sku_id, 2), (second.sku_id, 1)]
    )
    assert level_of(store, first.sku).on_hand == 2
    assert level_of(store, second.sku).on_hand == 1
    first.refresh_from_db()
    assert first.quantity_returned == 2
    assert not find_ledger_mismatches(iter_level_balances())
    call_command("check_stock_ledger")  # exits non-zero on a mismatch


def test_receive_return_refuses_an_unapproved_return_and_changes_no_stock(order):
    first, _ = _lines(order)
    request = returns.request_return(
        order_id=order.pk, lines=[(first.pk, 1)], reason="x", actor=STAFF
    )
    store = make_location(kind="store")

    with pytest.raises(returns.ReturnStateError):
        returns.receive_return(return_id=request.pk, location_id=store.pk, actor=STAFF)

    assert not StockMovement.objects.filter(reference=request.number).exists()
    first.refresh_from_db()
    assert first.quantity_returned == 0


def test_receive_return_refuses_an_inactive_location(order):
    first, _ = _lines(order)
    request = returns.request_return(
        order_id=order.pk, lines=[(first.pk, 1)], reason="x", actor=STAFF
    )
    returns.approve_return(return_id=request.pk, actor=STAFF)
    closed = make_location(kind="store", is_active=False)

    with pytest.raises(InvalidReturnError):
        returns.receive_return(return_id=request.pk, location_id=closed.pk, actor=STAFF)

    request.refresh_from_db()
    assert request.state == ReturnState.APPROVED


def test_refund_return_of_some_units_refunds_their_value_and_partly_refunds(order):
    first, _second = _lines(order)
    request = _received(order, [(first.pk, 1)])

    done = returns.refund_return(return_id=request.pk, actor=STAFF)

    order.refresh_from_db()
    assert done.state == ReturnState.REFUNDED
    assert done.refund_amount == Decimal("50.00")
    assert order.amount_refunded == Decimal("50.00")
    assert order.state == domain.PARTLY_REFUNDED
    entry = PaymentEntry.objects.get(payment__order=order, kind=EntryKind.REFUND)
    assert (entry.amount, entry.document) == (Decimal("-50.00"), request.number)


def test_refund_return_of_every_unit_marks_the_order_returned(order):
    first, second = _lines(order)
    request = _received(order, [(first.pk, 2), (second.pk, 1)])

    returns.refund_return(return_id=request.pk, actor=STAFF)

    order.refresh_from_db()
    assert order.amount_refunded == Decimal("130.00")  # shipping (10.00) stays paid
    assert order.state == domain.RETURNED
    with pytest.raises(returns.ReturnStateError):  # a second refund of it is refused
        returns.refund_return(return_id=request.pk, actor=STAFF)
    order.refresh_from_db()
    assert order.amount_refunded == Decimal("130.00")


def test_refund_return_in_two_returns_ends_returned(order):
    first, second = _lines(order)
    returns.refund_return(return_id=_received(order, [(first.pk, 2)]).pk, actor=STAFF)

    returns.refund_return(return_id=_received(order, [(second.pk, 1)]).pk, actor=STAFF)

    order.refresh_from_db()
    assert order.state == domain.RETURNED
    assert order.amount_refunded == Decimal("130.00")


def test_refund_return_refuses_more_than_paid_and_leaves_the_return_received(order):
    first, _ = _lines(order)
    request = _received(order, [(first.pk, 1)])

    with pytest.raises(DomainError) as refused:
        returns.refund_return(return_id=request.pk, actor=STAFF, amount=Decimal("500.00"))

    assert refused.value.code == "refund_exceeds_paid"
    request.refresh_from_db()
    order.refresh_from_db()
    assert request.state == ReturnState.RECEIVED
    assert order.amount_refunded == Decimal("0.00")


def test_reject_return_needs_a_reason_and_refuses_a_received_return(order):
    first, _ = _lines(order)
    request = _received(order, [(first.pk, 1)])

    with pytest.raises(InvalidReturnError):
        returns.reject_return(return_id=request.pk, reason="", actor=STAFF)
    with pytest.raises(returns.ReturnStateError):
        returns.reject_return(return_id=request.pk, reason="no", actor=STAFF)


def test_unknown_return_is_not_found(db):
    with pytest.raises(returns.ReturnNotFoundError):
        returns.approve_return(return_id=999999, actor=STAFF)
