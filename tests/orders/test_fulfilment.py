"""After payment: WMS shipments, delivery, rejections re-allocated, pick-up flow."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from omnimall.core import api_keys, clock, outbox
from omnimall.inventory.models import (
    FulfilmentRequest,
    FulfilmentState,
    MovementKind,
    Reservation,
    ReservationState,
    StockLocation,
    StockMovement,
)
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders.errors import NothingPutAsideError, PickupCodeError
from omnimall.orders.models import Order, OrderAllocation, OrderEvent
from omnimall.orders.services import cancellation, fulfilment, pickup
from tests.inventory.factories import level_of, make_location
from tests.orders.factories import (
    ACTOR,
    make_paid_order,
    make_ready_pickup,
    make_shipped_order,
    make_shop,
    store_token,
    wms_token,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _post(path, key, body=None):
    return Client().post(
        f"{API}{path}",
        body or {},
        content_type="application/json",
        HTTP_X_API_KEY=key,
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )


def test_wms_shipment_through_the_api_ships_the_order_and_commits_stock(
    django_capture_on_commit_callbacks,
):
    shop = make_shop()
    order = make_paid_order(shop, quantities=(1, 2))
    request = FulfilmentRequest.objects.get(owner_id=order.number)
    key = wms_token()

    listed = Client().get(f"{API}/inventory/fulfilment-requests", HTTP_X_API_KEY=key).json()
    with django_capture_on_commit_callbacks(execute=True):
        reply = _post(
            "/inventory/shipments",
            key,
            {"request": request.number, "carrier": "SF Express", "tracking_number": "SF123"},
        )

    assert request.number in [r["number"] for r in listed["results"]]
    assert reply.status_code == 201, reply.content
    order.refresh_from_db()
    assert order.state == "shipped"
    assert level_of(shop.warehouse, shop.skus[1]).on_hand == 8
    assert level_of(shop.warehouse, shop.skus[1]).reserved == 0
    assert (
        StockMovement.objects.filter(kind=MovementKind.SALE, reference=request.number).count() == 2
    )
    event = OrderEvent.objects.get(order=order, kind="fulfilment", data__tracking_number="SF123")
    assert "SF Express" in event.message


def test_partial_shipment_then_the_rest(django_capture_on_commit_callbacks):
    shop = make_shop()
    order = make_paid_order(shop, quantities=(1, 1))
    request = FulfilmentRequest.objects.get(owner_id=order.number)
    first, _second = request.lines.order_by("pk")

    with django_capture_on_commit_callbacks(execute=True):
        inventory_fulfilment.record_shipment(
            request_id=request.pk,
            carrier="SF",
            tracking_number="A1",
            line_ids=[first.pk],
            actor=ACTOR,
        )
    order.refresh_from_db()
    assert order.state == "partially_shipped"
    with django_capture_on_commit_callbacks(execute=True):
        inventory_fulfilment.record_shipment(
            request_id=request.pk, carrier="SF", tracking_number="A2", actor=ACTOR
        )

    order.refresh_from_db()
    assert order.state == "shipped"


def test_delivery_api_delivers_a_shipped_order_once():
    order = make_shipped_order()
    key = wms_token()

    first = _post(f"/orders/{order.number}/delivery", key)
    again = _post(f"/orders/{order.number}/delivery", key)

    assert first.status_code == 200, first.content
    assert first.json() == {"number": order.number, "state": "delivered"}
    assert again.status_code == 200
    assert OrderEvent.objects.filter(order=order, state_to="delivered").count() == 1


def test_delivery_api_refuses_a_body_with_fields_it_does_not_know():
    order = make_shipped_order()

    reply = _post(f"/orders/{order.number}/delivery", wms_token(), {"signed_by": "Li"})

    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "validation_failed"
    order.refresh_from_db()
    assert order.state == "shipped"


def test_delivery_api_refuses_unshipped_orders_and_other_scopes():
    shop = make_shop()
    order = make_paid_order(shop)

    pos_key = api_keys.create_api_key(
        name="till", scopes=["pos"], actor=ACTOR, bound_to=shop.store.code
    ).token
    refused = _post(f"/orders/{order.number}/delivery", wms_token())
    forbidden = _post(f"/orders/{order.number}/delivery", pos_key)
    anonymous = Client().post(f"{API}/orders/{order.number}/delivery")

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "order_state"
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["details"] == {"required_scopes": ["wms", "store"]}
    assert anonymous.status_code == 401


def test_delivery_api_delivers_for_a_key_bound_to_the_location_that_shipped():
    shop = make_shop()
    order = make_shipped_order(shop)

    reply = _post(f"/orders/{order.number}/delivery", wms_token(bound_to=shop.warehouse.code))

    assert reply.status_code == 200, reply.content
    assert reply.json() == {"number": order.number, "state": "delivered"}


def test_delivery_api_refuses_when_the_key_is_bound_to_another_location():
    shop = make_shop()
    order = make_shipped_order(shop)
    other = make_location("o-wh-elsewhere", can_ship=True)
    both_scopes = api_keys.create_api_key(
        name="wms-and-store", scopes=["wms", "store"], actor=ACTOR, bound_to=shop.store.code
    ).token
    keys = (wms_token(bound_to=other.code), wms_token(bound_to=shop.store.code), both_scopes)

    replies = [_post(f"/orders/{order.number}/delivery", key) for key in keys]

    assert [r.status_code for r in replies] == [403, 403, 403]
    assert replies[0].json()["error"]["code"] == "forbidden"
    assert replies[0].json()["error"]["details"] == {"bound_to": other.code}
    order.refresh_from_db()
    assert order.state == "shipped"
    assert not OrderEvent.objects.filter(order=order, state_to="delivered").exists()


def test_delivery_api_refuses_a_bound_key_before_the_order_shipped():
    shop = make_shop()
    order = make_paid_order(shop)

    reply = _post(f"/orders/{order.number}/delivery", wms_token(bound_to=shop.warehouse.code))

    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "forbidden"


def test_delivery_api_delivers_a_store_shipped_order_for_the_stores_key():
    shop = make_shop()
    StockLocation.objects.filter(pk=shop.warehouse.pk).update(can_ship=False)
    StockLocation.objects.filter(pk=shop.store.pk).update(can_ship=True)
    order = make_shipped_order(shop)
    unbound_store_key = api_keys.create_api_key(
        name="no-store", scopes=["store"], actor=ACTOR
    ).token

    warehouse = _post(f"/orders/{order.number}/delivery", wms_token(bound_to=shop.warehouse.code))
    unbound = _post(f"/orders/{order.number}/delivery", unbound_store_key)
    store = _post(f"/orders/{order.number}/delivery", store_token(shop.store))

    assert warehouse.status_code == 403
    assert unbound.status_code == 403
    assert store.status_code == 200, store.content
    assert store.json()["state"] == "delivered"


def test_rejected_request_is_reallocated_elsewhere(django_capture_on_commit_callbacks):
    shop = make_shop()
    second = make_location("o-wh-second", priority=20, can_ship=True)
    from omnimall.inventory import services as inventory

    for sku in shop.skus:
        inventory.receive_stock(location_id=second.pk, sku_id=sku.pk, quantity=5, actor=ACTOR)
    order = make_paid_order(shop)
    first_request = FulfilmentRequest.objects.get(owner_id=order.number)

    with django_capture_on_commit_callbacks(execute=True):
        inventory_fulfilment.reject_fulfilment_request(
            request_id=first_request.pk, reason="shelf empty", actor=ACTOR
        )

    order.refresh_from_db()
    assert order.state == "allocated"
    assert not order.needs_attention
    live = OrderAllocation.objects.filter(line__order=order, is_live=True)
    assert {a.location_id for a in live} == {second.pk}
    assert all(a.fulfilment_line_id for a in live)
    new_request = FulfilmentRequest.objects.exclude(pk=first_request.pk).get(owner_id=order.number)
    assert new_request.location_id == second.pk
    assert level_of(shop.warehouse, shop.skus[0]).reserved == 0
    assert level_of(second, shop.skus[0]).reserved == 1


def test_rejection_with_nowhere_else_flags_the_order(django_capture_on_commit_callbacks):
    shop = make_shop(store_units=0)
    order = make_paid_order(shop)
    request = FulfilmentRequest.objects.get(owner_id=order.number)

    with django_capture_on_commit_callbacks(execute=True):
        inventory_fulfilment.reject_fulfilment_request(
            request_id=request.pk, reason="flooded", actor=ACTOR
        )

    order.refresh_from_db()
    assert order.needs_attention
    assert OrderEvent.objects.filter(order=order, kind="problem").exists()


def test_a_pickup_its_store_refused_cannot_be_put_aside_or_handed_over(
    django_capture_on_commit_callbacks,
):
    shop = make_shop()
    order = make_paid_order(shop, method="pickup")
    request = FulfilmentRequest.objects.get(owner_id=order.number)
    with django_capture_on_commit_callbacks(execute=True):
        inventory_fulfilment.reject_fulfilment_request(
            request_id=request.pk, reason="damaged", actor=ACTOR
        )
    order.refresh_from_db()
    assert order.needs_attention  # a pick-up is not re-allocated to another place

    with pytest.raises(NothingPutAsideError):
        pickup.mark_ready_for_pickup(order_id=order.pk, actor=ACTOR)
    order.state = "ready_for_pickup"  # as the desk's old "put aside" left it
    order.save(update_fields=["state"])
    with pytest.raises(NothingPutAsideError):
        pickup.hand_over(store_id=shop.store.pk, code=order.pickup_code, actor=ACTOR)

    order.refresh_from_db()
    assert order.state == "ready_for_pickup"
    assert not StockMovement.objects.filter(kind=MovementKind.SALE).exists()  # no sale


def test_pickup_accept_makes_it_ready_and_emails_the_code(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    shop = make_shop()

    order = make_ready_pickup(shop)
    outbox.deliver_due()

    assert order.state == "ready_for_pickup"
    assert order.ready_at is not None
    ready = [m for m in mail.outbox if "ready for pick-up" in m.subject]
    assert len(ready) == 1
    assert order.pickup_code in ready[0].body


def test_store_key_accepts_through_the_api(django_capture_on_commit_callbacks):
    shop = make_shop()
    order = make_paid_order(shop, method="pickup")
    request = FulfilmentRequest.objects.get(owner_id=order.number)

    with django_capture_on_commit_callbacks(execute=True):
        reply = _post(
            f"/inventory/fulfilment-requests/{request.number}/accept", store_token(shop.store)
        )

    assert reply.status_code == 200, reply.content
    order.refresh_from_db()
    assert order.state == "ready_for_pickup"


def test_hand_over_by_code_picks_up_and_commits_stock(django_capture_on_commit_callbacks):
    shop = make_shop()
    order = make_ready_pickup(shop, quantities=(2, 1))

    with django_capture_on_commit_callbacks(execute=True):
        pickup.hand_over(
            store_id=shop.store.pk,
            code=f" {order.pickup_code[:3]} {order.pickup_code[3:]}",
            actor=ACTOR,
        )

    order.refresh_from_db()
    assert order.state == "picked_up"
    assert level_of(shop.store, shop.skus[0]).on_hand == 8
    assert level_of(shop.store, shop.skus[0]).reserved == 0
    assert FulfilmentRequest.objects.get(owner_id=order.number).state == FulfilmentState.SHIPPED


def test_hand_over_with_a_wrong_code_or_store_is_refused():
    shop = make_shop()
    order = make_ready_pickup(shop)
    other = make_location("o-st-other", kind="store", offers_pickup=True)

    with pytest.raises(PickupCodeError):
        pickup.hand_over(
            store_id=shop.store.pk,
            code="000000" if order.pickup_code != "000000" else "111111",
            actor=ACTOR,
        )
    with pytest.raises(PickupCodeError):
        pickup.hand_over(store_id=other.pk, code=order.pickup_code, actor=ACTOR)


def test_uncollected_pickups_are_cancelled_refunded_and_released():
    shop = make_shop()
    order = make_ready_pickup(shop)
    fresh = make_ready_pickup(shop)
    Order.objects.filter(pk=order.pk).update(collect_by=clock.now() - timedelta(hours=1))

    cancelled = cancellation.cancel_uncollected_pickups()

    order.refresh_from_db()
    assert cancelled == 1
    assert order.state == "cancelled"
    assert order.amount_refunded == order.amount_paid
    assert level_of(shop.store, shop.skus[0]).reserved == 1  # only the fresh order's
    assert Order.objects.get(pk=fresh.pk).state == "ready_for_pickup"
    assert FulfilmentRequest.objects.get(owner_id=order.number).state == FulfilmentState.CANCELLED


def test_lapsed_holds_are_held_anew_at_allocation():
    shop = make_shop()
    from tests.orders.factories import pay, place

    placed = place(shop)
    Reservation.objects.filter(owner_id=placed.number).update(
        expires_at=clock.now() - timedelta(minutes=1)
    )

    order = pay(placed.order_id)

    assert order.state == "allocated"
    live = OrderAllocation.objects.filter(line__order=order, is_live=True).select_related(
        "reservation"
    )
    assert all(a.reservation.state == ReservationState.HELD for a in live)
    assert level_of(shop.warehouse, shop.skus[1]).reserved == 2


def test_confirm_delivery_by_staff():
    order = make_shipped_order()

    fulfilment.confirm_delivery(order_id=order.pk, actor=ACTOR)

    order.refresh_from_db()
    assert order.state == "delivered"
