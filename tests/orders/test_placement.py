"""Placing orders: totals, holds, shortages, validation, pick-up stores."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from omnimall.inventory.errors import InsufficientStockError
from omnimall.inventory.models import Reservation, ReservationState
from omnimall.orders.models import Order, OrderAllocation, OrderEvent
from omnimall.orders.services import placement
from tests.inventory.factories import level_of
from tests.orders.factories import make_shop, place, priced

pytestmark = pytest.mark.django_db


def test_place_order_holds_stock_for_15_minutes_and_adds_up_totals():
    shop = make_shop()

    placed = place(shop, quantities=(1, 2), shipping="10.00")

    order = Order.objects.get(pk=placed.order_id)
    assert order.state == "pending_payment"
    assert len(order.number) == 12
    assert order.number.isdigit()
    assert order.subtotal == Decimal("179.70")
    assert order.total == placed.total == Decimal("189.70")
    assert placed.payment_url
    holds = Reservation.objects.filter(owner_type="order", owner_id=order.number)
    assert holds.aggregate(n=Sum("quantity"))["n"] == 3
    assert all(r.state == ReservationState.HELD for r in holds)
    minutes = (placed.reserved_until - order.placed_at) / timedelta(minutes=1)
    assert 14.9 < minutes < 15.1
    assert level_of(shop.warehouse, shop.skus[1]).reserved == 2
    assert OrderAllocation.objects.filter(line__order=order).count() == 2
    assert OrderEvent.objects.filter(order=order, state_to="pending_payment").exists()


def test_place_order_rounds_each_line_half_up():
    shop = make_shop()

    placed = placement.place_order(
        lines=[priced(shop.skus[0], 3, "0.335")],
        contact=placement.Contact(name="A", email="a@example.com", phone="1"),
        method="ship",
        ship_to={
            "name": "A",
            "phone": "1",
            "province": "P",
            "city": "Shanghai",
            "district": "D",
            "street": "S",
        },
        pickup_store_id=None,
        shipping=Decimal("0.00"),
        user_id=None,
        cart_token="t",
        notify_url="http://testserver/payments/notify/sandbox/",
        return_url="",
    )

    assert placed.total == Decimal("1.01")


def test_place_order_refuses_with_409_when_stock_is_short_and_holds_nothing():
    shop = make_shop(units=2, store_units=0)

    with pytest.raises(InsufficientStockError) as refused:
        place(shop, quantities=(1, 3))

    assert refused.value.status == 409
    assert Order.objects.count() == 0
    assert Reservation.objects.count() == 0


@pytest.mark.parametrize("quantities", [(0,), (-1,), (10**6,)], ids=["zero", "negative", "huge"])
def test_place_order_refuses_bad_quantities(quantities):
    shop = make_shop()

    with pytest.raises(placement.InvalidOrderError):
        place(shop, quantities=quantities)

    assert Order.objects.count() == 0


def test_place_order_refuses_an_incomplete_address():
    shop = make_shop()

    with pytest.raises(placement.InvalidOrderError) as refused:
        placement.place_order(
            lines=[priced(shop.skus[0], 1)],
            contact=placement.Contact(name="A", email="a@example.com", phone="1"),
            method="ship",
            ship_to={"name": "A", "city": "Shanghai"},
            pickup_store_id=None,
            shipping=Decimal("0"),
            user_id=None,
            cart_token="t",
            notify_url="",
            return_url="",
        )

    assert set(refused.value.details["missing"]) == {"phone", "province", "district", "street"}


def test_pickup_order_is_held_at_the_chosen_store_only():
    shop = make_shop()

    placed = place(shop, method="pickup")

    order = Order.objects.get(pk=placed.order_id)
    assert order.pickup_store_id == shop.store.pk
    assert set(
        OrderAllocation.objects.filter(line__order=order).values_list("location_id", flat=True)
    ) == {shop.store.pk}
    assert order.credited_store_id == shop.store.pk


def test_pickup_at_a_warehouse_or_inactive_store_is_refused():
    shop = make_shop()
    shop.store.is_active = False
    shop.store.save()

    with pytest.raises(placement.InvalidOrderError):
        place(shop, method="pickup")
    with pytest.raises(placement.InvalidOrderError):
        placement.place_order(
            lines=[priced(shop.skus[0], 1)],
            contact=placement.Contact(name="A", email="a@example.com", phone="1"),
            method="pickup",
            ship_to=None,
            pickup_store_id=shop.warehouse.pk,
            shipping=Decimal("0"),
            user_id=None,
            cart_token="t",
            notify_url="",
            return_url="",
        )


def test_placement_stays_within_its_query_budget(django_assert_max_num_queries):
    shop = make_shop(skus=3)

    # 21 statements plus the savepoints of the basket hold and the payment.
    with django_assert_max_num_queries(25):
        place(shop, quantities=(1, 1, 1))
