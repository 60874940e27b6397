"""Fulfilment services: create, accept, reject, cancel, ship; holds committed or released."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from omnimall.core.actors import Actor
from omnimall.core.models import AuditEntry
from omnimall.inventory import services
from omnimall.inventory.errors import InsufficientStockError, ReasonRequiredError
from omnimall.inventory.models import (
    FulfilmentState,
    LocationKind,
    MovementKind,
    ReservationState,
    StockMovement,
)
from omnimall.inventory.services.fulfilment import (
    FulfilmentLineError,
    FulfilmentStateError,
    accept_fulfilment_request,
    cancel_fulfilment_request,
    create_fulfilment_request,
    record_shipment,
    reject_fulfilment_request,
)
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus

pytestmark = pytest.mark.django_db

SHOP = Actor.system("orders")
STORE = Actor(kind="api_key", id=1, label="api-key:store")


@pytest.fixture
def store():
    location = make_location("st-1", kind=LocationKind.STORE)
    skus = make_skus(2)
    for sku in skus:
        services.receive_stock(
            location_id=location.pk, sku_id=sku.pk, quantity=10, actor=STOCK_ACTOR
        )
    return location, skus


def new_request(location, skus, quantities=(2, 3)):
    lines = []
    for sku, quantity in zip(skus, quantities, strict=False):
        hold = services.reserve_stock(location_id=location.pk, sku_id=sku.pk, quantity=quantity)
        lines.append((sku.pk, quantity, hold.pk))
    return create_fulfilment_request(
        location_id=location.pk, reference="ORD-9", lines=lines, actor=SHOP
    )


def test_create_fulfilment_request_numbers_it_and_keeps_the_lines(store):
    location, skus = store

    request = new_request(location, skus)

    assert request.number == f"FR-{request.pk:06d}"
    assert request.state == FulfilmentState.OPEN
    assert [(line.sku_id, line.quantity) for line in request.lines.all()] == [
        (skus[0].pk, 2),
        (skus[1].pk, 3),
    ]
    assert AuditEntry.objects.filter(action="fulfilment.created").count() == 1


def test_create_fulfilment_request_refuses_a_hold_of_another_sku(store):
    location, (sku_a, sku_b) = store
    hold = services.reserve_stock(location_id=location.pk, sku_id=sku_a.pk, quantity=1)

    with pytest.raises(FulfilmentLineError):
        create_fulfilment_request(
            location_id=location.pk, reference="X", lines=[(sku_b.pk, 1, hold.pk)], actor=SHOP
        )


def test_create_fulfilment_request_refuses_a_hold_used_twice(store):
    location, (sku_a, _) = store
    hold = services.reserve_stock(location_id=location.pk, sku_id=sku_a.pk, quantity=1)
    create_fulfilment_request(
        location_id=location.pk, reference="X", lines=[(sku_a.pk, 1, hold.pk)], actor=SHOP
    )

    with pytest.raises(FulfilmentLineError):
        create_fulfilment_request(
            location_id=location.pk, reference="Y", lines=[(sku_a.pk, 1, hold.pk)], actor=SHOP
        )


def test_create_fulfilment_request_refuses_no_lines(store):
    location, _ = store

    with pytest.raises(FulfilmentLineError):
        create_fulfilment_request(location_id=location.pk, reference="X", lines=[], actor=SHOP)


def test_accept_refuses_with_409_when_the_request_is_not_open(store):
    request = new_request(*store)
    accept_fulfilment_request(request_id=request.pk, actor=STORE)

    with pytest.raises(FulfilmentStateError) as refused:
        accept_fulfilment_request(request_id=request.pk, actor=STORE)

    assert refused.value.status == 409


def test_reject_needs_a_reason_and_releases_the_holds(store):
    location, skus = store
    request = new_request(location, skus)

    with pytest.raises(ReasonRequiredError):
        reject_fulfilment_request(request_id=request.pk, reason="  ", actor=STORE)
    reject_fulfilment_request(request_id=request.pk, reason="no stock after all", actor=STORE)

    request.refresh_from_db()
    assert request.state == FulfilmentState.REJECTED
    assert request.rejection_reason == "no stock after all"
    assert {line.reservation.state for line in request.lines.all()} == {ReservationState.RELEASED}
    assert [level_of(location, sku).reserved for sku in skus] == [0, 0]
    assert AuditEntry.objects.filter(action="fulfilment.rejected").exists()
    call_command("check_stock_ledger")


def test_cancel_releases_the_holds_and_then_refuses_shipping(store):
    location, skus = store
    request = new_request(location, skus)

    cancel_fulfilment_request(request_id=request.pk, actor=SHOP, reason="order cancelled")

    assert [level_of(location, sku).reserved for sku in skus] == [0, 0]
    with pytest.raises(FulfilmentStateError):
        record_shipment(request_id=request.pk, carrier="SF", tracking_number="1", actor=STORE)


def test_record_shipment_commits_the_holds_and_ships_the_request(store):
    location, skus = store
    request = new_request(location, skus)

    shipment = record_shipment(
        request_id=request.pk, carrier="SF Express", tracking_number="SF1", actor=STORE
    )

    request.refresh_from_db()
    assert request.state == FulfilmentState.SHIPPED
    assert set(request.lines.values_list("shipment_id", flat=True)) == {shipment.pk}
    assert [(level_of(location, s).on_hand, level_of(location, s).reserved) for s in skus] == [
        (8, 0),
        (7, 0),
    ]
    sales = StockMovement.objects.filter(kind=MovementKind.SALE, reference=request.number)
    assert sorted(sales.values_list("quantity", flat=True)) == [-3, -2]
    call_command("check_stock_ledger")


def test_record_shipment_of_some_lines_leaves_the_request_open_for_the_rest(store):
    location, skus = store
    request = new_request(location, skus)
    first, _ = request.lines.order_by("pk")

    record_shipment(
        request_id=request.pk, carrier="SF", tracking_number="1", line_ids=[first.pk], actor=STORE
    )
    request.refresh_from_db()
    state_after_first = request.state
    with pytest.raises(FulfilmentStateError):
        record_shipment(
            request_id=request.pk,
            carrier="SF",
            tracking_number="2",
            line_ids=[first.pk],
            actor=STORE,
        )
    with pytest.raises(FulfilmentStateError):  # a line has shipped: no rejection any more
        reject_fulfilment_request(request_id=request.pk, reason="late", actor=STORE)
    record_shipment(request_id=request.pk, carrier="SF", tracking_number="3", actor=STORE)

    request.refresh_from_db()
    assert state_after_first == FulfilmentState.OPEN
    assert request.state == FulfilmentState.SHIPPED
    assert request.shipments.count() == 2
    with pytest.raises(FulfilmentStateError):
        record_shipment(request_id=request.pk, carrier="SF", tracking_number="4", actor=STORE)


def test_record_shipment_refuses_an_empty_line_selection_as_invalid_lines(store):
    location, skus = store
    request = new_request(location, skus)

    with pytest.raises(FulfilmentLineError) as refused:
        record_shipment(
            request_id=request.pk, carrier="SF", tracking_number="1", line_ids=[], actor=STORE
        )

    assert refused.value.status == 422
    assert not request.shipments.exists()


def test_record_shipment_refuses_lines_of_another_request(store):
    location, skus = store
    request = new_request(location, skus[:1], quantities=(1,))
    other = new_request(location, skus[1:], quantities=(1,))

    with pytest.raises(FulfilmentLineError):
        record_shipment(
            request_id=request.pk,
            carrier="SF",
            tracking_number="1",
            line_ids=[other.lines.get().pk],
            actor=STORE,
        )


def test_record_shipment_sells_free_units_when_a_line_has_no_hold(store):
    location, (sku, _) = store
    request = create_fulfilment_request(
        location_id=location.pk, reference="POS", lines=[(sku.pk, 4, None)], actor=SHOP
    )
    short = create_fulfilment_request(
        location_id=location.pk, reference="POS2", lines=[(sku.pk, 4, None)], actor=SHOP
    )

    record_shipment(request_id=request.pk, carrier="hand", tracking_number="-", actor=STORE)
    services.reserve_stock(location_id=location.pk, sku_id=sku.pk, quantity=3)

    assert level_of(location, sku).on_hand == 6
    with pytest.raises(InsufficientStockError):  # 6 on hand, 3 held for others
        record_shipment(request_id=short.pk, carrier="hand", tracking_number="-", actor=STORE)
    call_command("check_stock_ledger")
