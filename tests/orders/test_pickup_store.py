"""A pick-up order moved to another store before its store puts it aside
(``orders.services.pickup_store``): the holds, the requests, the credit, the timeline,
the email and the webhook; and every refusal leaves everything as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase

from omnimall.core.models import AuditEntry, OutboxMessage, WebhookSubscription
from omnimall.inventory import services as inventory
from omnimall.inventory.errors import InsufficientStockError
from omnimall.inventory.models import FulfilmentRequest, FulfilmentState, LocationKind
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders import domain
from omnimall.orders.errors import (
    InvalidPickupStoreError,
    OrderBeingPreparedError,
    PaymentHoldExpiredError,
    PickupStoreNotChangeableError,
)
from omnimall.orders.models import CreditReason, DeliveryMethod, Order, OrderEvent
from omnimall.orders.services import payment
from omnimall.orders.services.pickup_store import change_pickup_store
from tests.inventory.factories import level_of, make_location
from tests.orders.factories import (
    ACTOR,
    make_shop,
    notification,
    pay,
    pay_at_gateway,
    place,
    request_ids,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    WebhookSubscription.objects.create(
        name="POS", url="https://pos.example.cn/hooks", secret="s", topics=["*"]
    )


@pytest.fixture
def shop():
    return make_shop(units=20)


def another_store(shop, *, units: int = 20, code: str = "o-st-west"):
    store = make_location(
        code,
        kind=LocationKind.STORE,
        priority=60,
        can_ship=False,
        offers_pickup=True,
        address="8 West Nanjing Road",
        opening_hours="10:00-21:00",
    )
    for sku in shop.skus:
        if units:
            inventory.receive_stock(
                location_id=store.pk, sku_id=sku.pk, quantity=units, actor=ACTOR
            )
    return store


def pickup_order(shop, *, paid: bool = True) -> Order:
    placed = place(shop, method="pickup")
    return pay(placed.order_id) if paid else Order.objects.get(pk=placed.order_id)


def reserved(store, shop) -> list[int]:
    return [level_of(store, sku).reserved for sku in shop.skus]


def test_an_allocated_pick_up_moves_its_holds_and_request_to_the_new_store(shop):
    west = another_store(shop)
    order = pickup_order(shop)
    assert order.state == domain.ALLOCATED
    old_requests = request_ids(order)
    code = order.pickup_code

    changed = change_pickup_store(order_id=order.pk, store=west.code, actor=ACTOR)

    assert changed.pickup_store_id == west.pk
    assert changed.state == domain.ALLOCATED
    assert changed.pickup_code == code  # the shopper's proof at the counter stays
    assert reserved(shop.store, shop) == [0, 0]
    assert reserved(west, shop) == [1, 2]
    assert set(
        FulfilmentRequest.objects.filter(pk__in=old_requests).values_list("state", flat=True)
    ) == {FulfilmentState.CANCELLED}
    new_requests = FulfilmentRequest.objects.filter(pk__in=request_ids(changed))
    assert [(r.location_id, r.method, r.state) for r in new_requests] == [
        (west.pk, "pickup", FulfilmentState.OPEN)
    ]
    event = OrderEvent.objects.get(order=order, data__after=west.code)
    assert event.data["before"] == shop.store.code
    assert event.actor_label
    assert AuditEntry.objects.filter(action="order.pickup_store_changed").count() == 1
    webhook = OutboxMessage.objects.get(kind="webhook", topic="order.pickup_store_changed")
    assert webhook.payload["data"]["pickup_store"] == west.code
    assert webhook.payload["data"]["pickup_store_before"] == shop.store.code
    email = OutboxMessage.objects.get(topic="order.pickup_store_changed", kind="email")
    assert "8 West Nanjing Road" in email.payload["body"]


def test_the_credit_follows_the_pick_up_store_but_not_a_referral(shop):
    west = another_store(shop)
    by_pickup = pickup_order(shop)
    by_referral = pay(place(shop, method="pickup", referral_store_code=shop.store.code).order_id)
    assert by_pickup.credit_reason == CreditReason.PICKUP_STORE
    assert by_referral.credit_reason == CreditReason.REFERRAL

    for order in (by_pickup, by_referral):
        change_pickup_store(order_id=order.pk, store=west.code, actor=ACTOR)

    assert Order.objects.get(pk=by_pickup.pk).credited_store_id == west.pk
    assert Order.objects.get(pk=by_referral.pk).credited_store_id == shop.store.pk


def test_an_unpaid_order_holds_at_the_new_store_for_what_is_left_of_its_payment_window(shop):
    west = another_store(shop)
    order = pickup_order(shop, paid=False)

    change_pickup_store(order_id=order.pk, store=west.code, actor=ACTOR)

    order.refresh_from_db()
    assert order.state == domain.PENDING_PAYMENT
    assert reserved(west, shop) == [1, 2]
    assert reserved(shop.store, shop) == [0, 0]
    held = order.lines.first().allocations.get(is_live=True).reservation
    assert abs(held.expires_at - order.reserved_until) < timedelta(seconds=5)

    paid = pay(order.pk)  # paying later allocates at the new store

    assert paid.state == domain.ALLOCATED
    assert {r.location_id for r in FulfilmentRequest.objects.filter(pk__in=request_ids(paid))} == {
        west.pk
    }


def test_a_store_that_cannot_hold_everything_is_refused_and_nothing_moves(shop):
    west = another_store(shop, units=1)  # one of each: the order wants 1 and 2
    order = pickup_order(shop)
    before = request_ids(order)

    with pytest.raises(InsufficientStockError):
        change_pickup_store(order_id=order.pk, store=west.code, actor=ACTOR)

    order.refresh_from_db()
    assert order.pickup_store_id == shop.store.pk
    assert request_ids(order) == before
    assert reserved(shop.store, shop) == [1, 2]
    assert reserved(west, shop) == [0, 0]
    assert not OutboxMessage.objects.filter(topic="order.pickup_store_changed").exists()


def test_an_unknown_store_a_warehouse_or_the_same_store(shop):
    order = pickup_order(shop)

    for store in ("nowhere", shop.warehouse.code, "", None):
        with pytest.raises(InvalidPickupStoreError):
            change_pickup_store(order_id=order.pk, store=store, actor=ACTOR)
    same = change_pickup_store(order_id=order.pk, store=shop.store.code, actor=ACTOR)

    assert same.pickup_store_id == shop.store.pk
    assert not AuditEntry.objects.filter(action="order.pickup_store_changed").exists()


def test_once_put_aside_or_for_a_delivery_the_store_stays(shop):
    west = another_store(shop)
    delivery = pay(place(shop).order_id)
    order = pickup_order(shop)
    for request_id in request_ids(order):
        with TestCase.captureOnCommitCallbacks(execute=True):
            inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)
    order.refresh_from_db()
    assert order.state == domain.READY_FOR_PICKUP

    for refused in (delivery, order):
        with pytest.raises(PickupStoreNotChangeableError):
            change_pickup_store(order_id=refused.pk, store=west.code, actor=ACTOR)


def test_an_accepted_request_not_yet_marked_ready_refuses_the_move(shop):
    west = another_store(shop)
    order = pickup_order(shop)
    for request_id in request_ids(order):  # accepted; its handler has not run yet
        inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)

    with pytest.raises(OrderBeingPreparedError):
        change_pickup_store(order_id=order.pk, store=west.code, actor=ACTOR)

    assert Order.objects.get(pk=order.pk).pickup_store_id == shop.store.pk


def test_an_unpaid_order_past_its_hold_is_refused(shop):
    west = another_store(shop)
    order = pickup_order(shop, paid=False)
    Order.objects.filter(pk=order.pk).update(reserved_until=order.placed_at - timedelta(minutes=1))

    with pytest.raises(PaymentHoldExpiredError):
        change_pickup_store(order_id=order.pk, store=west.code, actor=ACTOR)


def test_an_order_its_store_refused_is_mended_by_another_store(shop):
    west = another_store(shop)
    order = pickup_order(shop)
    for request_id in request_ids(order):
        with TestCase.captureOnCommitCallbacks(execute=True):
            inventory_fulfilment.reject_fulfilment_request(
                request_id=request_id, reason="shelf empty", actor=ACTOR
            )
    order.refresh_from_db()
    assert order.needs_attention  # a pick-up is never moved by itself
    assert request_ids(order) == []
    asked = OutboxMessage.objects.get(kind="email", topic="order.pickup_store_refused")
    link = f"/orders/{order.number}/store/?token={order.guest_token}"
    assert link in asked.payload["body"]
    texted = OutboxMessage.objects.get(kind="sms", topic="order.pickup_store_refused")
    assert link in texted.payload["text"]
    assert "无法" in texted.payload["text"]

    changed = change_pickup_store(order_id=order.pk, store=west.code, actor=ACTOR)

    assert not changed.needs_attention
    assert changed.state == domain.ALLOCATED
    assert reserved(west, shop) == [1, 2]
    assert OrderEvent.objects.get(order=order, data__after=west.code).data["attention_lifted"]


def test_a_paid_order_waiting_for_allocation_is_allocated_at_the_new_store(shop):
    west = another_store(shop)
    placed = place(shop, method="pickup")
    pay_at_gateway(placed.order_id)
    payment.settle_notification(  # allocation (after commit) not run
        gateway="sandbox", params=notification(placed.order_id), remote_addr=None
    )
    assert Order.objects.get(pk=placed.order_id).state == domain.PAID

    changed = change_pickup_store(order_id=placed.order_id, store=west.code, actor=ACTOR)

    assert changed.state == domain.ALLOCATED
    assert {
        r.location_id for r in FulfilmentRequest.objects.filter(pk__in=request_ids(changed))
    } == {west.pk}
    assert reserved(shop.store, shop) == [0, 0]


def test_the_domain_rules_name_the_delivery_methods_the_model_stores():
    assert {domain.SHIP, domain.PICKUP} == set(DeliveryMethod.values)
    assert domain.may_change_store("pickup", domain.ALLOCATED)
    assert not domain.may_change_store("ship", domain.ALLOCATED)
    assert not domain.may_change_store("pickup", domain.READY_FOR_PICKUP)
    assert domain.may_readdress("ship", domain.PAID)
    assert not domain.may_readdress("pickup", domain.PAID)
