"""Store API: create a cart, add/change/remove lines, check out; errors are JSON."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from omnimall.checkout.models import Cart, CartLine, CartState
from omnimall.orders.models import Order
from tests.checkout.conftest import ADDRESS, CONTACT

pytestmark = pytest.mark.django_db


def post(client, path, body=None, **extra):
    return client.post(path, json.dumps(body or {}), content_type="application/json", **extra)


def patch(client, path, body):
    return client.patch(path, json.dumps(body), content_type="application/json")


def new_cart(client) -> str:
    response = post(client, "/api/v1/carts")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_create_cart_answers_an_unguessable_token_and_an_empty_cart(shop, client):
    response = post(client, "/api/v1/carts")

    assert response.status_code == 201
    body = response.json()
    assert len(body["id"]) >= 32
    assert body["lines"] == []
    assert body["totals"] == {
        "subtotal": "0.00",
        "shipping": "0.00",
        "total": "0.00",
        "item_count": 0,
        "shipping_estimated": True,
    }
    assert body["shipping_to"] is None
    assert body["can_check_out"] is False
    assert Cart.objects.get(token=body["id"]).user_id is None


def test_add_line_prices_on_the_server_and_merges_the_same_sku(shop, client):
    token = new_cart(client)

    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})
    response = post(
        client, f"/api/v1/carts/{token}/lines", {"sku_id": shop.tee_s.pk, "quantity": 2}
    )

    assert response.status_code == 201
    body = response.json()
    (line,) = body["lines"]
    assert line["sku"] == shop.tee_s.code
    assert line["quantity"] == 3
    assert line["unit_price"] == "49.00"
    assert line["line_total"] == "147.00"
    assert line["flag"] is None
    assert body["totals"] == {
        "subtotal": "147.00",
        "shipping": "0.00",
        "total": "147.00",
        "item_count": 3,
        "shipping_estimated": True,
    }
    assert CartLine.objects.get().quantity == 3


def test_shipping_is_charged_below_the_threshold_and_free_for_pickup(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})

    ship = client.get(f"/api/v1/carts/{token}").json()
    pickup = client.get(f"/api/v1/carts/{token}?delivery_method=pickup").json()

    assert ship["totals"] == {
        "subtotal": "49.00",
        "shipping": "10.00",
        "total": "59.00",
        "item_count": 1,
        "shipping_estimated": True,
    }
    assert pickup["totals"]["shipping"] == "0.00"
    assert pickup["totals"]["shipping_estimated"] is False
    assert pickup["totals"]["total"] == "49.00"


def test_sale_price_is_the_unit_price(shop, client):
    token = new_cart(client)

    body = post(
        client, f"/api/v1/carts/{token}/lines", {"sku": shop.shirt_l.code, "quantity": 1}
    ).json()

    assert body["lines"][0]["unit_price"] == "299.00"
    assert body["lines"][0]["list_price"] == "399.00"


def test_patch_and_delete_a_line(shop, client):
    token = new_cart(client)
    body = post(
        client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1}
    ).json()
    line_id = body["lines"][0]["id"]

    patched = patch(client, f"/api/v1/carts/{token}/lines/{line_id}", {"quantity": 4})
    deleted = client.delete(f"/api/v1/carts/{token}/lines/{line_id}")

    assert patched.status_code == 200
    assert patched.json()["lines"][0]["quantity"] == 4
    assert deleted.status_code == 200
    assert deleted.json()["lines"] == []
    assert not CartLine.objects.exists()


def test_unknown_line_and_unknown_cart_are_404_json(shop, client):
    token = new_cart(client)

    line = patch(client, f"/api/v1/carts/{token}/lines/999999", {"quantity": 1})
    cart = client.get("/api/v1/carts/not-a-real-token")

    assert line.status_code == 404
    assert line.json()["error"]["code"] == "cart_line_not_found"
    assert cart.status_code == 404
    assert cart.json()["error"]["code"] == "cart_not_found"


def test_unknown_sku_is_404_and_inactive_sku_422(shop, client):
    token = new_cart(client)
    shop.tee_m.is_active = False
    shop.tee_m.save()

    unknown = post(client, f"/api/v1/carts/{token}/lines", {"sku": "NOPE", "quantity": 1})
    inactive = post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_m.code, "quantity": 1})

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_sku"
    assert inactive.status_code == 422
    assert inactive.json()["error"]["code"] == "sku_unavailable"


def test_merged_quantity_over_twenty_is_refused(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 15})

    response = post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 6})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "quantity_out_of_range"
    assert CartLine.objects.get().quantity == 15


def test_checkout_delivery_places_a_pending_order_and_closes_the_cart(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 2})
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.shirt_l.code, "quantity": 1})

    response = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS, "store": None},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(number=body["order"]["number"])
    assert body["order"]["state"] == "pending_payment"
    assert body["order"]["total"] == "397.00"  # 2 × 49 + 299, shipping free from 99
    assert body["order"]["token"] == order.guest_token
    assert body["payment_url"].startswith("http")
    assert order.state == "pending_payment"
    assert order.total == order.subtotal
    assert order.ship_to["city"] == "上海"
    assert sorted(order.lines.values_list("sku_code", "quantity", "unit_price")) == sorted(
        [(shop.tee_s.code, 2, shop_price("49.00")), (shop.shirt_l.code, 1, shop_price("299.00"))]
    )
    assert Cart.objects.get(token=token).state == CartState.CHECKED_OUT


@pytest.mark.parametrize(
    ("language", "product_name", "variant"),
    [("en", "Cotton Tee", "Black / S"), ("zh-hans", "纯棉T恤", "黑色 / S")],
)
def test_checkout_keeps_the_colour_as_the_product_page_names_it(
    shop, client, language, product_name, variant
):
    token = new_cart(client)
    added = post(
        client,
        f"/api/v1/carts/{token}/lines",
        {"sku": shop.tee_s.code, "quantity": 1},
        HTTP_ACCEPT_LANGUAGE=language,
    )

    response = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS, "store": None},
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.status_code == 201, response.content
    assert added.json()["lines"][0]["variant"] == variant
    assert added.json()["lines"][0]["colour"] == "black"  # the code, for programs
    (line,) = Order.objects.get(number=response.json()["order"]["number"]).lines.all()
    assert (line.product_name, line.variant) == (product_name, variant)


def shop_price(value):
    from decimal import Decimal

    return Decimal(value)


def test_checkout_pickup_at_a_store_holding_the_basket(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 2})
    stores = client.get(f"/api/v1/carts/{token}/pickup-stores?city=Shanghai").json()

    response = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": CONTACT, "delivery_method": "pickup", "address": None, "store": "sh-1"},
    )

    assert [s["code"] for s in stores] == ["sh-1", "bj-1"]
    assert response.status_code == 201, response.content
    order = Order.objects.get(number=response.json()["order"]["number"])
    assert order.delivery_method == "pickup"
    assert order.pickup_store_id == shop.store_sh.pk
    assert order.shipping == 0


def test_pickup_stores_lists_only_stores_holding_the_whole_basket(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 5})

    stores = client.get(f"/api/v1/carts/{token}/pickup-stores?city=Shanghai").json()

    assert [s["code"] for s in stores] == ["bj-1"]


def test_second_checkout_of_the_same_cart_is_409(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})
    body = {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS}
    first = post(client, f"/api/v1/carts/{token}/checkout", body)

    second = post(client, f"/api/v1/carts/{token}/checkout", body)
    add = post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "cart_closed"
    assert add.status_code == 409
    assert Order.objects.count() == 1


def test_checkout_with_idempotency_key_replays_the_same_order(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})
    body = {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS}

    first = post(client, f"/api/v1/carts/{token}/checkout", body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(client, f"/api/v1/carts/{token}/checkout", body, HTTP_IDEMPOTENCY_KEY="k-1")
    other = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {**body, "delivery_method": "pickup", "address": None, "store": "sh-1"},
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 409
    assert Order.objects.count() == 1


def test_checkout_with_a_blank_idempotency_key_is_422_invalid_not_required(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})
    body = {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS}

    blank = post(client, f"/api/v1/carts/{token}/checkout", body, HTTP_IDEMPOTENCY_KEY=" ")

    assert blank.status_code == 422
    assert blank.json()["error"]["code"] == "invalid_idempotency_key"
    assert Order.objects.count() == 0


def test_checkout_out_of_stock_is_409_and_writes_nothing(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_m.code, "quantity": 6})

    response = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS},
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "out_of_stock"
    (short,) = response.json()["error"]["details"]["shortages"]
    assert (short["sku"], short["requested"], short["available"]) == (shop.tee_m.code, 6, 5)
    assert short["sku_id"] == shop.tee_m.pk, short  # the codes come beside the ids
    assert short["location"] is None, short  # short across every shipping location
    assert not Order.objects.exists()
    assert Cart.objects.get(token=token).state == CartState.OPEN


def test_checkout_refuses_bad_contact_and_address_fields(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})

    response = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {
            "contact": {**CONTACT, "email": "not-an-email"},
            "delivery_method": "ship",
            "address": {**ADDRESS, "phone": "12345", "district": " "},
        },
    )

    assert response.status_code == 422
    errors = response.json()["error"]["details"]["errors"]
    assert set(errors) == {"contact.email", "address.phone", "address.district"}
    assert Cart.objects.get(token=token).state == CartState.OPEN


def test_checkout_pickup_without_a_store_is_422(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})

    response = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": CONTACT, "delivery_method": "pickup", "store": "wh"},
    )

    assert response.status_code == 422
    assert "store" in response.json()["error"]["details"]["errors"]


def test_checkout_of_an_empty_cart_is_422(shop, client):
    token = new_cart(client)

    response = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS},
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "cart_empty"


def test_signed_in_session_with_csrf_makes_the_cart_the_users(shop, shopper):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)
    client.get(f"/p/{shop.tee.slug}/availability/")  # its add-to-bag form sets the cookie
    csrf = client.cookies["csrftoken"].value

    response = post(client, "/api/v1/carts", HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 201
    assert Cart.objects.get(token=response.json()["id"]).user_id == shopper.pk


def test_cookie_without_csrf_acts_as_anonymous(shop, shopper):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)

    response = post(client, "/api/v1/carts")

    assert response.status_code == 201
    assert Cart.objects.get(token=response.json()["id"]).user_id is None


def test_checkout_refuses_while_a_line_is_flagged_and_lists_it(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 1})
    body = post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_m.code, "quantity": 1})
    flagged_id = body.json()["lines"][1]["id"]
    shop.tee_m.is_active = False
    shop.tee_m.save()

    cart = client.get(f"/api/v1/carts/{token}").json()
    response = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS},
    )

    assert cart["flagged_lines"] == [flagged_id]
    assert cart["lines"][1]["flag"] == "sku_inactive"
    assert cart["totals"]["subtotal"] == "49.00"
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cart_has_unavailable_lines"
    assert response.json()["error"]["details"]["lines"] == [
        {"id": flagged_id, "sku": shop.tee_m.code, "reason": "sku_inactive"}
    ]
    assert not Order.objects.exists()
    assert Cart.objects.get(token=token).state == CartState.OPEN
    assert client.delete(f"/api/v1/carts/{token}/lines/{flagged_id}").status_code == 200
    again = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS},
    )
    assert again.status_code == 201


def test_buy_again_adds_an_earlier_orders_items_to_a_cart_and_lists_what_it_skipped(shop, client):
    token = new_cart(client)
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.tee_s.code, "quantity": 2})
    post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.shirt_l.code, "quantity": 1})
    placed = post(
        client,
        f"/api/v1/carts/{token}/checkout",
        {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS},
    ).json()["order"]
    shop.shirt_l.is_active = False  # taken off sale since
    shop.shirt_l.save(update_fields=["is_active"])
    again = new_cart(client)

    reply = post(
        client,
        f"/api/v1/carts/{again}/buy-again",
        {"order": placed["number"], "token": placed["token"]},
    )
    stranger = post(client, f"/api/v1/carts/{again}/buy-again", {"order": placed["number"]})
    wrong_token = post(
        Client(),
        f"/api/v1/carts/{new_cart(Client())}/buy-again",
        {"order": placed["number"], "token": "not-the-token"},
    )

    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert body["added"] == [shop.tee_s.code]
    assert body["skipped"] == [{"sku": shop.shirt_l.code, "reason": "sku_unavailable"}]
    assert [(line["sku"], line["quantity"]) for line in body["cart"]["lines"]] == [
        (shop.tee_s.code, 2)
    ]
    assert body["cart"]["totals"]["subtotal"] == "98.00"  # today's price, from the server
    assert stranger.status_code == 404
    assert wrong_token.status_code == 404
    assert stranger.json()["error"]["code"] == "unknown_order"
