"""Checkout and payment races, through the Store API and the notification endpoint.

Many shoppers check out the last units at once; one notification arrives many times at
once; one member's points are asked for by several checkouts at once. Each thread is a
separate HTTP client on its own database connection (``tests.races``). The issue asks
for PostgreSQL; on SQLite the same races run on a file copy of the database, where
writers queue.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.inventory.domain import find_ledger_mismatches
from omnimall.inventory.models import FulfilmentRequest, StockLevel
from omnimall.inventory.selectors import stock as stock_selectors
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.inventory.services import receive_stock
from omnimall.members.models import Member
from omnimall.members.selectors.points import ledger_mismatches
from omnimall.members.services.identity import enrol_member
from omnimall.orders.models import Order, OrderEvent
from omnimall.orders.services import cancellation
from omnimall.payments.gateways import sandbox
from omnimall.payments.models import EntryKind, Payment, PaymentEntry
from tests.inventory.factories import STOCK_ACTOR, make_location, make_skus
from tests.members.test_points_factories import give_points
from tests.orders.factories import ACTOR, make_paid_order, make_shop, request_ids
from tests.races import run_together

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

SHOPPERS = 32
UNITS = 5
CONTACT = {"name": "韩梅梅", "email": "meimei@example.com", "phone": "13900139000"}
ADDRESS = {
    "name": "韩梅梅",
    "phone": "13900139000",
    "province": "上海市",
    "city": "上海",
    "district": "徐汇区",
    "street": "漕溪北路 1 号",
    "postal_code": "200030",
}


def _cart_with(client: Client, sku_code: str, quantity: int = 1) -> str:
    reply = client.post("/api/v1/carts", {}, content_type="application/json")
    assert reply.status_code == 201, reply.content
    token = reply.json()["id"]
    reply = client.post(
        f"/api/v1/carts/{token}/lines",
        {"sku": sku_code, "quantity": quantity},
        content_type="application/json",
    )
    assert reply.status_code in (200, 201), reply.content
    return token


def _checkout(client: Client, token: str, shopper: int = 0):
    """Each shopper their own phone: one shopper may hold only a few unpaid orders."""
    contact = {**CONTACT, "phone": f"1390013{shopper:04d}"}
    return client.post(
        f"/api/v1/carts/{token}/checkout",
        {"contact": contact, "delivery_method": "ship", "address": ADDRESS, "store": None},
        content_type="application/json",
    )


def _ledger_ok() -> bool:
    return not find_ledger_mismatches(stock_selectors.iter_level_balances())


def test_checkout_sells_exactly_the_last_5_units_when_32_shoppers_race(race_database):
    warehouse = make_location("wh-checkout-race", city="Shanghai")
    (sku,) = make_skus()
    receive_stock(location_id=warehouse.pk, sku_id=sku.pk, quantity=UNITS, actor=STOCK_ACTOR)
    tokens = [_cart_with(Client(), sku.code) for _ in range(SHOPPERS)]

    def check_out(i: int) -> tuple[int, str]:
        reply = _checkout(Client(), tokens[i], shopper=i)
        code = reply.json().get("error", {}).get("code", "") if reply.status_code >= 400 else ""
        return reply.status_code, code

    outcomes = run_together(SHOPPERS, check_out)

    assert sorted(outcomes).count((201, "")) == UNITS
    assert sorted(outcomes).count((409, "out_of_stock")) == SHOPPERS - UNITS
    level = StockLevel.objects.get(location=warehouse, sku=sku)
    assert (level.on_hand, level.reserved) == (UNITS, UNITS)
    assert Order.objects.filter(state="pending_payment").count() == UNITS
    assert _ledger_ok()


def test_notification_delivered_20_times_at_once_pays_the_order_once(race_database):
    warehouse = make_location("wh-notify-race", city="Shanghai")
    (sku,) = make_skus()
    receive_stock(location_id=warehouse.pk, sku_id=sku.pk, quantity=10, actor=STOCK_ACTOR)
    client = Client()
    reply = _checkout(client, _cart_with(client, sku.code, quantity=2))
    assert reply.status_code == 201, reply.content
    order = Order.objects.get(number=reply.json()["order"]["number"])
    payment = Payment.objects.get(order=order)
    notification = sandbox.notification_for(payment.out_trade_no)

    def notify(_: int) -> str:
        return Client().post("/payments/notify/sandbox/", notification).content.decode()

    replies = run_together(20, notify)

    assert replies == ["success"] * 20
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.state in ("paid", "allocated")
    assert order.amount_paid == order.total == payment.amount_captured
    captures = PaymentEntry.objects.filter(payment=payment, kind=EntryKind.CAPTURE)
    assert captures.count() == 1
    assert captures.get().amount == order.total > Decimal("0")
    assert OrderEvent.objects.filter(order=order, state_to="paid").count() == 1


def test_one_members_points_pay_one_of_8_checkouts_racing_for_them(race_database):
    actor = Actor.system("race test")
    warehouse = make_location("wh-points-race", city="Shanghai")
    (sku,) = make_skus()
    receive_stock(location_id=warehouse.pk, sku_id=sku.pk, quantity=20, actor=STOCK_ACTOR)
    user = get_user_model().objects.create_user(username="racer", password="pw-123456!")
    member = enrol_member(phone="+8613900139077", actor=actor, user_id=user.pk)
    give_points(member, 1000, "race:gift", document="gift", actor=actor)
    clients = []
    for _ in range(8):
        client = Client()
        client.force_login(user)
        clients.append((client, _cart_with(client, sku.code)))

    def check_out(i: int) -> tuple[int, str]:
        client, token = clients[i]
        reply = client.post(
            f"/api/v1/carts/{token}/checkout",
            {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS, "points": 600},
            content_type="application/json",
        )
        code = reply.json().get("error", {}).get("code", "") if reply.status_code >= 400 else ""
        return reply.status_code, code

    outcomes = run_together(8, check_out)

    assert sorted(outcomes).count((201, "")) == 1
    assert sorted(outcomes).count((409, "insufficient_points")) == 7
    member = Member.objects.get(pk=member.pk)
    assert (member.points_available, member.points_held) == (400, 600)
    assert Order.objects.filter(points_used=600).count() == 1
    assert ledger_mismatches() == []
    assert _ledger_ok()


def test_a_shoppers_cancel_racing_the_warehouses_accept_ends_one_way_or_the_other(
    race_database,
):
    """The cancel locks the order's requests before it decides: either the order is
    cancelled and the accept is refused, or the request is accepted and the cancel is."""
    shop = make_shop(units=20)
    for _ in range(6):
        order = make_paid_order(shop, quantities=(1, 1))
        (request_id,) = request_ids(order)

        def act(i: int, order_id: int = order.pk, request_id: int = request_id) -> str:
            try:
                if i == 0:
                    cancellation.cancel_order(
                        order_id=order_id, actor=ACTOR, reason="", by_shopper=True
                    )
                    return "cancelled"
                inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)
            except DomainError as refused:
                return refused.code
            return "accepted"

        outcome = tuple(run_together(2, act))
        order.refresh_from_db()
        request = FulfilmentRequest.objects.get(pk=request_id)
        if outcome == ("cancelled", "fulfilment_state"):
            assert (order.state, request.state) == ("cancelled", "cancelled")
            assert order.amount_refunded == order.amount_paid
        else:
            assert outcome == ("order_being_prepared", "accepted")
            assert (order.state, request.state) == ("allocated", "accepted")
            assert order.amount_refunded == 0
    assert not find_ledger_mismatches(stock_selectors.iter_level_balances())


def test_a_new_address_racing_the_warehouses_accept_ends_one_way_or_the_other(
    race_database,
):
    """The address change locks the order's requests before it decides: either the request
    is accepted with the new address on it, or it is accepted first and the change refused."""
    from omnimall.orders.services import readdress

    shop = make_shop(units=20)
    hangzhou = {**ADDRESS, "province": "浙江省", "city": "杭州市", "district": "西湖区"}
    for _ in range(6):
        order = make_paid_order(shop, quantities=(1, 1))
        (request_id,) = request_ids(order)

        def act(i: int, order_id: int = order.pk, request_id: int = request_id) -> str:
            try:
                if i == 0:
                    readdress.change_ship_to(order_id=order_id, address=hangzhou, actor=ACTOR)
                    return "readdressed"
                inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)
            except DomainError as refused:
                return refused.code
            return "accepted"

        outcome = tuple(run_together(2, act))
        order.refresh_from_db()
        request = FulfilmentRequest.objects.get(pk=request_id)
        assert request.state == "accepted"
        if outcome == ("readdressed", "accepted"):
            assert order.ship_to["city"] == request.ship_to["city"] == "杭州市"
        else:
            assert outcome == ("order_being_prepared", "accepted")
            assert order.ship_to["city"] == request.ship_to["city"] != "杭州市"


def test_a_new_pick_up_store_racing_the_stores_accept_ends_one_way_or_the_other(
    race_database,
):
    """The store change locks the order's requests before it decides: either the old
    store's request is cancelled and the new store holds everything, or the old store
    accepted first and the change is refused; never units held at both, none lost."""
    from omnimall.inventory.models import LocationKind
    from omnimall.orders.services import pickup_store

    shop = make_shop(units=20)
    west = make_location("race-west", kind=LocationKind.STORE, can_ship=False, offers_pickup=True)
    for sku in shop.skus:
        receive_stock(location_id=west.pk, sku_id=sku.pk, quantity=20, actor=STOCK_ACTOR)
    for _ in range(6):
        order = make_paid_order(shop, quantities=(1, 1), method="pickup")
        (request_id,) = request_ids(order)

        def act(i: int, order_id: int = order.pk, request_id: int = request_id) -> str:
            try:
                if i == 0:
                    pickup_store.change_pickup_store(
                        order_id=order_id, store=west.code, actor=ACTOR
                    )
                    return "moved"
                inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)
            except DomainError as refused:
                return refused.code
            return "accepted"

        outcome = tuple(run_together(2, act))
        order.refresh_from_db()
        request = FulfilmentRequest.objects.get(pk=request_id)
        if outcome == ("moved", "fulfilment_state"):
            assert order.pickup_store_id == west.pk
            assert request.state == "cancelled"
            assert [
                FulfilmentRequest.objects.get(pk=r).location_id for r in request_ids(order)
            ] == [west.pk]
        else:
            # Accepted first: refused under the request's lock, or by the order's state once
            # the accept's handler made it ready.
            assert outcome in {
                ("order_being_prepared", "accepted"),
                ("pickup_store_not_changeable", "accepted"),
            }
            assert order.pickup_store_id == shop.store.pk
            assert request.state == "accepted"
    assert not find_ledger_mismatches(stock_selectors.iter_level_balances())
