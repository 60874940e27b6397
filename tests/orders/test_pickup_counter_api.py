"""The pick-up counter for a store's till or app (``/api/v1/pickups``): the shelf, the order
behind a code, the hand-over (once, whatever the retries), and only at the key's store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from omnimall.core import api_keys, clock
from omnimall.inventory.models import ReservationState, StockMovement
from omnimall.orders.models import Order
from omnimall.orders.services import collector
from tests.inventory.factories import make_location
from tests.orders.factories import (
    ACTOR,
    make_paid_order,
    make_ready_pickup,
    make_shop,
    store_token,
    wms_token,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def shop():
    return make_shop(units=20)


def till(token: str) -> Client:
    return Client(headers={"X-Api-Key": token})


def test_the_till_sees_the_shelf_nearest_deadline_first(shop):
    later, sooner = make_ready_pickup(shop), make_ready_pickup(shop)
    Order.objects.filter(pk=sooner.pk).update(collect_by=clock.now() + timedelta(hours=3))
    collector.set_collector(order_id=later.pk, name="李雷", phone="13900139000", actor=ACTOR)
    make_paid_order(shop, method="pickup")  # not put aside yet: not on the shelf

    shelf = till(store_token(shop.store)).get("/api/v1/pickups")

    assert shelf.status_code == 200
    assert [row["number"] for row in shelf.json()] == [sooner.number, later.number]
    assert shelf.json()[1]["collector_name"] == "李雷"


def test_the_till_finds_the_order_behind_a_code_and_hands_it_over_once(shop):
    order = make_ready_pickup(shop)
    client = till(store_token(shop.store))
    url = f"/api/v1/pickups/{order.pickup_code}"

    found = client.get(url)
    first = client.post(f"{url}/hand-over", headers={"Idempotency-Key": "till-1-0001"})
    retried = client.post(f"{url}/hand-over", headers={"Idempotency-Key": "till-1-0001"})
    gone = client.get(url)

    assert found.status_code == 200
    body = found.json()
    assert (body["number"], body["ready"]) == (order.number, True)
    assert [line["quantity"] for line in body["lines"]] == [
        line.quantity for line in order.lines.order_by("pk")
    ]
    assert first.status_code == 200
    assert first.json() == {"number": order.number, "state": "picked_up"}
    assert retried.status_code == 200
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert gone.status_code == 404
    assert Order.objects.get(pk=order.pk).state == "picked_up"
    # The holds became sales, once.
    assert (
        not order.lines.first()
        .allocations.filter(reservation__state=ReservationState.HELD)
        .exists()
    )
    assert StockMovement.objects.filter(reference__startswith="FR-", kind="sale").count() >= 1


def test_a_hand_over_needs_an_idempotency_key_and_a_code_put_aside(shop):
    waiting = make_paid_order(shop, method="pickup")
    client = till(store_token(shop.store))

    no_key = client.post(f"/api/v1/pickups/{waiting.pickup_code}/hand-over")
    not_ready = client.post(
        f"/api/v1/pickups/{waiting.pickup_code}/hand-over", headers={"Idempotency-Key": "k-2"}
    )
    unknown = client.post("/api/v1/pickups/000000/hand-over", headers={"Idempotency-Key": "k-3"})

    assert no_key.status_code == 422
    assert no_key.json()["error"]["code"] == "idempotency_key_required"
    assert not_ready.status_code == 404
    assert not_ready.json()["error"]["code"] == "unknown_pickup_code"
    assert unknown.status_code == 404
    assert Order.objects.get(pk=waiting.pk).state != "picked_up"


def test_only_a_key_bound_to_the_orders_store_acts_for_it(shop):
    order = make_ready_pickup(shop)
    other = make_location("o-st-other", kind="store", offers_pickup=True)
    unbound = api_keys.create_api_key(name="store-unbound", scopes=["store"], actor=ACTOR).token

    elsewhere = till(store_token(other)).get(f"/api/v1/pickups/{order.pickup_code}")
    not_bound = till(unbound).get("/api/v1/pickups")
    warehouse = till(wms_token()).get("/api/v1/pickups")
    nobody = Client().get("/api/v1/pickups")

    assert elsewhere.status_code == 404  # the code means nothing at another store
    assert not_bound.status_code == 403
    assert warehouse.status_code == 403  # a WMS key has no store scope
    assert nobody.status_code == 401
