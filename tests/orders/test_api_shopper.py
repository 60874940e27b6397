"""The shopper's order calls of the Store API as an app makes them: cancel, pay again,
return, history (``/api/v1/orders``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from omnimall.core import clock
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders.models import Order, ReturnRequest
from omnimall.payments import selectors as payment_selectors
from omnimall.payments.gateways import sandbox_bank
from tests.inventory.factories import make_skus
from tests.orders.factories import ACTOR, make_shop, pay, place, request_ids
from tests.orders.test_refunds import paid_order

pytestmark = pytest.mark.django_db


def _post(url, body, client=None):
    return (client or Client()).post(url, body, content_type="application/json")


def test_cancel_refuses_an_unknown_field_and_changes_nothing():
    placed = place(make_shop())
    url = f"/api/v1/orders/{placed.number}/cancel"

    refused = _post(url, {"token": placed.guest_token, "refund_to": "my account"})
    seen = Client().get(f"/api/v1/orders/{placed.number}?token={placed.guest_token}")

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "validation_failed"
    assert refused.json()["error"]["details"]["errors"][0]["loc"][-1] == "refund_to"
    assert seen.json()["state"] == "pending_payment"


def test_a_guest_cancels_a_paid_order_until_the_warehouse_takes_it_on():
    shop = make_shop()
    first, second = place(shop), place(shop)
    pay(first.order_id)
    pay(second.order_id)
    (request_id,) = request_ids(Order.objects.get(pk=second.order_id))
    inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)
    url = "/api/v1/orders/{}/cancel"

    before = Client().get(f"/api/v1/orders/{first.number}?token={first.guest_token}").json()
    cancelled = _post(url.format(first.number), {"token": first.guest_token})
    refused = _post(url.format(second.number), {"token": second.guest_token})

    assert before["can_cancel"] is True
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["can_cancel"] is False
    assert cancelled.json()["amount_refunded"] == cancelled.json()["total"]
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "order_being_prepared"
    assert Order.objects.get(pk=second.order_id).state == "allocated"


def _decline(order_id):
    trade_no = payment_selectors.list_payments_of_order(order_id)[0].trade_no
    sandbox_bank.decline_trade(trade_no)


def test_pay_again_gives_a_fresh_payment_url_after_a_decline():
    placed = place(make_shop())
    _decline(placed.order_id)
    url = f"/api/v1/orders/{placed.number}/pay"

    started = _post(url, {"token": placed.guest_token})

    assert started.status_code == 201, started.content
    body = started.json()
    newest = payment_selectors.list_payments_of_order(placed.order_id)[-1]
    assert newest.state == "pending"
    assert body["payment_url"] == f"http://testserver/payments/sandbox/pay/{newest.trade_no}/"
    assert placed.payment_url.rstrip("/").rsplit("/", 1)[-1] != newest.trade_no
    assert body["amount_due"] == str(placed.amount_due)
    assert body["number"] == placed.number
    assert body["currency"] == "CNY"


def test_pay_again_is_404_without_the_token_and_409_once_paid_or_expired():
    shop = make_shop()
    placed, expired = place(shop, quantities=(1,)), place(shop, quantities=(1,))
    pay(placed.order_id)
    Order.objects.filter(pk=expired.order_id).update(
        reserved_until=clock.now() - timedelta(minutes=1)
    )

    stranger = _post(f"/api/v1/orders/{placed.number}/pay", {"token": "guess"})
    no_token = _post(f"/api/v1/orders/{placed.number}/pay", {})
    paid = _post(f"/api/v1/orders/{placed.number}/pay", {"token": placed.guest_token})
    late = _post(f"/api/v1/orders/{expired.number}/pay", {"token": expired.guest_token})

    assert stranger.status_code == 404
    assert no_token.status_code == 404
    assert paid.status_code == 409
    assert paid.json()["error"]["code"] == "order_state"
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "hold_expired"


def test_pay_again_for_the_signed_in_owner_needs_the_csrf_header():
    user = get_user_model().objects.create_user(
        username="payer@example.com", email="payer@example.com", password="pw-123456!"
    )
    placed = place(make_shop(), user=user)
    _decline(placed.order_id)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/account/")  # sets the csrftoken cookie
    url = f"/api/v1/orders/{placed.number}/pay"

    cross_site = _post(url, {}, client)
    own = client.post(
        url, {}, content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )

    assert cross_site.status_code == 404
    assert own.status_code == 201, own.content


def test_order_lines_carry_their_ids_and_a_return_is_requested_through_the_api(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    skus = make_skus(2)
    order = paid_order([(skus[0], 2, "50.00"), (skus[1], 1, "30.00")])
    seen = Client().get(f"/api/v1/orders/{order.number}?token={order.guest_token}").json()
    first, second = seen["lines"]
    url = f"/api/v1/orders/{order.number}/returns"
    body = {"token": order.guest_token, "reason": "Too big", "lines": []}

    stranger = _post(
        url, {**body, "token": "guess", "lines": [{"line_id": first["id"], "quantity": 1}]}
    )
    too_many = _post(url, {**body, "lines": [{"line_id": first["id"], "quantity": 3}]})
    priced = _post(
        url, {**body, "lines": [{"line_id": first["id"], "quantity": 1, "amount": "50"}]}
    )
    asked = _post(
        url,
        {
            **body,
            "lines": [
                {"line_id": first["id"], "quantity": 2},
                {"line_id": second["id"], "quantity": 1},
            ],
        },
    )

    assert first["sku_id"] == skus[0].pk
    assert first["sku_code"] == skus[0].code
    assert stranger.status_code == 404
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "invalid_return"
    assert priced.status_code == 422
    assert priced.json()["error"]["code"] == "validation_failed"
    assert asked.status_code == 201, asked.content
    assert [(r["number"], r["state"]) for r in asked.json()["returns"]] == [
        (f"{order.number}-RT1", "requested")
    ]
    assert ReturnRequest.objects.get(order=order).lines.count() == 2


def test_return_of_an_order_not_yet_delivered_is_409():
    placed = place(make_shop())

    refused = _post(
        f"/api/v1/orders/{placed.number}/returns",
        {
            "token": placed.guest_token,
            "reason": "Changed my mind",
            "lines": [{"line_id": 1, "quantity": 1}],
        },
    )

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "return_not_allowed"


def test_order_history_lists_the_signed_in_shoppers_orders_newest_first():
    shop = make_shop(units=30)
    user = get_user_model().objects.create_user(
        username="history@example.com", email="history@example.com", password="pw-123456!"
    )
    numbers = [place(shop, user=user, quantities=(1,)).number for _ in range(11)]
    place(shop, quantities=(1,))  # a guest's
    client = Client()
    client.force_login(user)

    first = client.get("/api/v1/orders")
    second = client.get("/api/v1/orders?page=2")
    anonymous = Client().get("/api/v1/orders")

    assert first.status_code == 200, first.content
    body = first.json()
    assert [o["number"] for o in body["results"]] == list(reversed(numbers))[:10]
    assert (body["page"], body["pages"], body["total"]) == (1, 2, 11)
    assert body["results"][0]["total"] == "59.90"
    assert body["results"][0]["item_count"] == 1
    assert [o["number"] for o in second.json()["results"]] == [numbers[0]]
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_signed_in"


def test_the_hold_deadline_shows_only_while_the_order_waits_for_payment():
    placed = place(make_shop())
    url = f"/api/v1/orders/{placed.number}?token={placed.guest_token}"
    unpaid = Client().get(url).json()["reserved_until"]
    pay(placed.order_id)

    paid = Client().get(url).json()["reserved_until"]

    assert unpaid is not None
    assert paid is None  # the hold ended with the payment: no stale deadline
