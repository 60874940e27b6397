"""GET /api/v1/orders/{number}: owner, guest token, everyone else 404."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from omnimall.orders import selectors
from tests.inventory.factories import level_of
from tests.orders.factories import make_ready_pickup, make_shop, place

pytestmark = pytest.mark.django_db


def _user(name):
    return get_user_model().objects.create_user(
        username=name, email=f"{name}@example.com", password="pw-123456!"
    )


def test_owner_sees_the_order_and_others_get_404():
    shop = make_shop()
    owner, other = _user("owner"), _user("other")
    placed = place(shop, user=owner)
    url = f"/api/v1/orders/{placed.number}"
    mine, theirs, anonymous = Client(), Client(), Client()
    mine.force_login(owner)
    theirs.force_login(other)

    seen = mine.get(url)
    refused = theirs.get(url)
    nobody = anonymous.get(url)

    assert seen.status_code == 200
    body = seen.json()
    assert body["number"] == placed.number
    assert body["state"] == "pending_payment"
    assert body["can_cancel"] is True
    assert len(body["lines"]) == 2
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "unknown_order"
    assert nobody.status_code == 404


def test_guest_token_opens_the_order_with_spaces_in_the_number():
    shop = make_shop()
    placed = place(shop)
    spaced = f"{placed.number[:6]}%20{placed.number[6:]}"

    ok = Client().get(f"/api/v1/orders/{spaced}?token={placed.guest_token}")
    wrong = Client().get(f"/api/v1/orders/{placed.number}?token=nope")

    assert ok.status_code == 200
    assert wrong.status_code == 404


def test_pickup_code_is_shown_once_paid():
    shop = make_shop()
    order = make_ready_pickup(shop)

    view = selectors.get_order_for_viewer(
        number=order.number, user=None, guest_token=order.guest_token
    )

    assert view.pickup_code == order.pickup_code
    assert view.pickup_store is not None
    assert view.pickup_store.opening_hours == "10:00-22:00"
    assert [t.state_to for t in view.timeline] == [
        "pending_payment",
        "paid",
        "allocated",
        "ready_for_pickup",
    ]


def test_order_view_reads_in_few_queries(django_assert_max_num_queries):
    shop = make_shop()
    placed = place(shop)

    with django_assert_max_num_queries(8):
        selectors.get_order_for_viewer(
            number=placed.number, user=None, guest_token=placed.guest_token
        )


def test_list_orders_for_user_pages_newest_first():
    shop = make_shop(units=30)
    user = _user("lister")
    numbers = [place(shop, user=user, quantities=(1,)).number for _ in range(3)]
    place(shop, quantities=(1,))

    page = selectors.list_orders_for_user(user=user)

    assert [o.number for o in page.results] == list(reversed(numbers))
    assert page.total == 3
    assert page.results[0].item_count == 1


def test_cancel_through_the_api_needs_the_token_and_releases_stock():
    shop = make_shop()
    placed = place(shop)
    url = f"/api/v1/orders/{placed.number}/cancel"

    wrong = Client().post(url, {"token": "guess"}, content_type="application/json")
    done = Client().post(url, {"token": placed.guest_token}, content_type="application/json")
    again = Client().post(url, {"token": placed.guest_token}, content_type="application/json")

    assert wrong.status_code == 404
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "cancelled"
    assert again.status_code == 409
    assert level_of(shop.warehouse, shop.skus[0]).reserved == 0
