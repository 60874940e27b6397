"""Order history and the order page: who may see it, payment status, cancel, return."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, TestCase

from omnimall.core import qr
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders import domain
from omnimall.orders.models import Order, OrderEvent, ReturnRequest
from omnimall.orders.services import cancellation, fulfilment, pickup
from tests.orders.factories import (
    ACTOR,
    make_ready_pickup,
    make_shop,
    pay,
    place,
    request_ids,
    ship_all,
)

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}
HTMX = {"HTTP_HX_REQUEST": "true", **EN}


@pytest.fixture(autouse=True)
def _no_outbox_delivery(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


def _user(email="shopper@example.com"):
    return get_user_model().objects.create_user(username=email, email=email, password="x")


@pytest.fixture
def shop():
    return make_shop(units=40)


@pytest.fixture
def shopper(client):
    user = _user()
    client.force_login(user)
    return user


def _html(response):
    return response.content.decode()


def _url(placed, suffix=""):
    return f"/orders/{placed.number}/{suffix}"


def test_order_history_lists_only_the_shoppers_orders_newest_first_in_pages(client, shop, shopper):
    mine = [place(shop, quantities=(1,), user=shopper) for _ in range(11)]
    theirs = place(shop, quantities=(1,), user=_user("other@example.com"))

    first = client.get("/account/orders/", **EN)
    second = client.get("/account/orders/?page=2", **EN)
    junk = client.get("/account/orders/?page=abc", **EN)

    assert first.status_code == 200
    assert "private" in first["Cache-Control"]
    first_html, second_html = _html(first), _html(second)
    numbers = [p.number for p in mine]
    display = lambda n: f"{n[:6]} {n[6:]}"  # noqa: E731
    assert display(numbers[-1]) in first_html
    assert display(numbers[0]) not in first_html
    assert display(numbers[0]) in second_html
    assert display(theirs.number) not in first_html + second_html
    assert "Page 1 of 2" in first_html
    assert "pending payment" in first_html
    assert junk.status_code == 200


def test_account_home_greets_and_shows_three_recent_orders(client, shop, shopper):
    shopper.first_name = "Mei"
    shopper.save()
    placed = [place(shop, quantities=(1,), user=shopper) for _ in range(4)]

    response = client.get("/account/", **EN)

    html = _html(response)
    assert "Hello, Mei" in html
    # Three orders (each linked from its number, and, unpaid, from "Pay by"); not the
    # footer's /orders/find/.
    assert len(set(re.findall(r'href="/orders/(\d+)/', html))) == 3
    assert html.count("Pay by") == 3
    assert f"{placed[0].number[:6]} {placed[0].number[6:]}" not in html
    assert "See all 4 orders" in html


def test_order_page_is_shown_to_its_owner_and_private(client, shop, shopper):
    placed = place(shop, user=shopper)

    response = client.get(_url(placed), **EN)

    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert f"{placed.number[:6]} {placed.number[6:]}" in _html(response)


@pytest.mark.parametrize(
    ("quantities", "lang", "count"),
    [((1,), EN, "· 1 item</p>"), ((1, 2), EN, "· 3 items</p>"), ((1,), ZH, "· 1 件商品</p>")],
)
def test_order_page_counts_its_items_in_the_shoppers_language(
    client, shop, shopper, quantities, lang, count
):
    placed = place(shop, user=shopper, quantities=quantities)

    response = client.get(_url(placed), **lang)

    assert count in _html(response)


def test_order_page_is_not_found_for_another_signed_in_shopper(client, shop):
    placed = place(shop, user=_user("owner@example.com"))
    client.force_login(_user("other@example.com"))

    response = client.get(_url(placed), **EN)

    assert response.status_code == 404
    assert "We could not find that page" in _html(response)


def test_order_page_is_shown_to_a_guest_with_its_token_and_remembered(client, shop):
    placed = place(shop)

    with_token = client.get(_url(placed) + f"?token={placed.guest_token}", **EN)
    later = client.get(_url(placed), **EN)

    assert with_token.status_code == 200
    assert later.status_code == 200
    assert client.session["omnimall_order_tokens"] == {placed.number: placed.guest_token}


@pytest.mark.parametrize("query", ["", "?token=wrong", "?token=", "?token=" + "x" * 500])
def test_order_page_is_not_found_without_the_right_token(client, shop, query):
    placed = place(shop)

    response = client.get(_url(placed) + query, **EN)

    assert response.status_code == 404


@pytest.mark.parametrize("number", ["000000000000", "abc", "1" * 40, "%20"])
def test_order_page_is_not_found_for_unknown_or_junk_numbers(client, number):
    response = client.get(f"/orders/{number}/", **EN)

    assert response.status_code == 404


def test_pending_order_page_waits_for_confirmation_and_polls_the_status_fragment(client, shop):
    placed = place(shop)

    response = client.get(_url(placed) + f"?token={placed.guest_token}", **EN)

    html = _html(response)
    assert "Waiting for payment confirmation" in html
    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="/orders/{placed.number}/status/?token={placed.guest_token}' in html
    assert f'href="/orders/{placed.number}/cancel/?token={placed.guest_token}"' in html


def test_coming_back_from_the_gateway_is_not_proof_of_payment(client, shop):
    placed = place(shop)

    response = client.get(_url(placed) + f"?token={placed.guest_token}&trade_status=paid", **EN)

    assert "Waiting for payment confirmation" in _html(response)
    assert Order.objects.get(pk=placed.order_id).state == domain.PENDING_PAYMENT


def test_status_fragment_keeps_polling_while_pending_and_reloads_once_paid(client, shop):
    placed = place(shop, method="pickup")
    status = _url(placed, "status/") + f"?token={placed.guest_token}&was=pending_payment"

    waiting = client.get(status, **HTMX)
    pay(placed.order_id)
    paid = client.get(status, **HTMX)
    page = client.get(_url(placed), **EN)

    assert waiting.status_code == 200
    assert "HX-Refresh" not in waiting
    assert 'hx-trigger="every 2s"' in _html(waiting)
    assert "<html" not in _html(waiting)
    assert paid["HX-Refresh"] == "true"
    assert "every 2s" not in _html(paid)
    assert "private" in paid["Cache-Control"]
    order = Order.objects.get(pk=placed.order_id)
    assert order.pickup_code
    page_html = _html(page)
    assert order.pickup_code in page_html
    assert "Show this code at the counter" in page_html
    assert "1 Nanjing Road" in page_html
    assert "10:00-22:00" in page_html
    assert "This order counts for" in page_html  # store credit: the pick-up store
    assert "Waiting for payment confirmation" not in page_html


def test_status_without_htmx_is_a_whole_page(client, shop):
    placed = place(shop)

    response = client.get(_url(placed, "status/") + f"?token={placed.guest_token}", **EN)

    assert response.status_code == 200
    assert "<html" in _html(response)
    assert "Waiting for payment confirmation" in _html(response)


def test_abandoned_payment_shows_message_and_a_link_to_pay_again(client, shop):
    placed = place(shop)

    response = client.get(_url(placed) + f"?token={placed.guest_token}&payment=abandoned", **EN)

    html = _html(response)
    assert "You left the payment page before paying." in html
    assert "Pay again" in html
    assert f'href="{placed.payment_url}"' in html


def test_declined_payment_shows_message(client, shop):
    placed = place(shop)

    response = client.get(_url(placed) + f"?token={placed.guest_token}&payment=declined", **EN)
    html = _html(response)
    status_url = (
        re.search(r'id="order-status"[^>]*hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    )
    polled = client.get(status_url, HTTP_HX_REQUEST="true", **EN)

    assert "Your payment was declined." in html
    assert "Not paid yet" in html
    assert "payment=declined" in status_url
    assert "Your payment was declined." in _html(polled)  # the poll keeps the notice
    assert "Waiting for payment confirmation" not in _html(polled)


def test_unknown_payment_outcome_is_ignored(client, shop):
    placed = place(shop)

    response = client.get(_url(placed) + f"?token={placed.guest_token}&payment=<b>x</b>", **EN)

    assert response.status_code == 200
    assert "<b>x</b>" not in _html(response)


def test_cancel_unpaid_order_cancels_it_for_its_guest(client, shop):
    placed = place(shop)

    response = client.post(_url(placed, "cancel/") + f"?token={placed.guest_token}", **EN)

    assert response.status_code == 302
    assert response["Location"] == _url(placed) + f"?token={placed.guest_token}"
    assert Order.objects.get(pk=placed.order_id).state == domain.CANCELLED
    page = client.get(response["Location"], **EN)
    assert "Your order has been cancelled." in _html(page)


def test_cancel_in_chinese_writes_the_timeline_in_english_for_the_back_office(client, shop):
    placed = place(shop)

    client.post(
        _url(placed, "cancel/") + f"?token={placed.guest_token}",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    event = OrderEvent.objects.get(order_id=placed.order_id, state_to=domain.CANCELLED)
    assert event.message == "Cancelled by the shopper before paying."  # each reader translates


def test_a_paid_order_is_cancelled_from_its_page_until_it_is_taken_on(client, shop, shopper):
    placed = place(shop, user=shopper)
    pay(placed.order_id)

    page = client.get(_url(placed), **EN)
    assert "You can cancel until the warehouse or store starts preparing it." in _html(page)
    response = client.post(_url(placed, "cancel/"), follow=True, **EN)

    assert "Your order has been cancelled. Your refund is on its way." in _html(response)
    order = Order.objects.get(pk=placed.order_id)
    assert order.state == domain.CANCELLED
    assert order.amount_refunded == order.amount_paid
    event = OrderEvent.objects.get(order_id=placed.order_id, state_to=domain.CANCELLED)
    assert event.message == "Cancelled by the shopper before it was prepared."
    assert "order-cancel" not in _html(response)


def test_cancel_of_an_order_being_prepared_is_refused_with_a_message(client, shop, shopper):
    placed = place(shop, user=shopper)
    order = pay(placed.order_id)
    for request_id in request_ids(order):
        inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)

    page = client.get(_url(placed), **EN)
    response = client.post(_url(placed, "cancel/"), follow=True, **EN)

    assert "order-cancel" not in _html(page)
    assert "we have started preparing it" in _html(response)
    assert Order.objects.get(pk=placed.order_id).state == domain.ALLOCATED


def test_cancel_asks_why_first_and_needs_access(client, shop):
    placed = place(shop)
    url = _url(placed, "cancel/") + f"?token={placed.guest_token}"

    page = client.get(url, **EN)
    bad = client.post(url, {"why": "not_paid"}, **EN)  # the shop's reason, not a shopper's
    stranger_page = Client().get(_url(placed, "cancel/"))
    stranger = Client().post(_url(placed, "cancel/"))

    assert page.status_code == 200
    assert 'value="cheaper"' in _html(page)
    assert "I would rather not say" in _html(page)
    assert 'value="not_paid"' not in _html(page)
    assert bad.status_code == 200
    assert "not one of the available choices" in _html(bad)
    assert (stranger_page.status_code, stranger.status_code) == (404, 404)
    assert Order.objects.get(pk=placed.order_id).state == domain.PENDING_PAYMENT


def test_the_shoppers_reason_is_kept_on_the_order(client, shop):
    placed = place(shop)

    client.post(
        _url(placed, "cancel/") + f"?token={placed.guest_token}", {"why": "wrong_items"}, **EN
    )

    order = Order.objects.get(pk=placed.order_id)
    assert (order.state, order.cancel_reason) == (domain.CANCELLED, "wrong_items")


def _delivered(shop, user):
    placed = place(shop, quantities=(2, 1), user=user)
    order = ship_all(pay(placed.order_id))
    with TestCase.captureOnCommitCallbacks(execute=True):
        fulfilment.confirm_delivery(order_id=order.pk, actor=ACTOR)
    return placed


def test_shipped_order_shows_tracking(client, shop, shopper):
    placed = place(shop, user=shopper)
    ship_all(pay(placed.order_id), carrier="SF Express", tracking="SF123456")

    response = client.get(_url(placed), **EN)

    html = _html(response)
    assert "SF Express" in html
    assert "SF123456" in html
    assert "shipped" in html


def test_return_request_records_chosen_lines_and_shows_on_the_order(client, shop, shopper):
    placed = _delivered(shop, shopper)
    first, second = Order.objects.get(pk=placed.order_id).lines.order_by("pk")

    form = client.get(_url(placed, "return/"), **EN)
    response = client.post(
        _url(placed, "return/"),
        {f"qty_{first.pk}": "1", f"qty_{second.pk}": "0", "reason": "Too big"},
    )

    assert form.status_code == 200
    assert 'name="qty_' in _html(form)
    assert response.status_code == 302
    request = ReturnRequest.objects.get()
    assert list(request.lines.values_list("order_line_id", "quantity")) == [(first.pk, 1)]
    assert request.reason == "Too big"
    page = client.get(_url(placed), **EN)
    assert request.number in _html(page)
    assert "requested" in _html(page)
    assert "Request a return" not in _html(page)  # one open return at a time


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"reason": "Too big"}, "Choose at least one item"),
        ({"first": "0", "reason": "Too big"}, "Choose at least one item"),
        ({"first": "3", "reason": "Too big"}, "less than or equal to 2"),
        ({"first": "-1", "reason": "Too big"}, "greater than or equal to 0"),
        ({"first": "two", "reason": "Too big"}, "Enter a whole number"),
        ({"first": "1", "reason": "   "}, "This field is required"),
    ],
)
def test_return_request_shows_form_errors_and_records_nothing_when_invalid(
    client, shop, shopper, data, error
):
    placed = _delivered(shop, shopper)
    first = Order.objects.get(pk=placed.order_id).lines.order_by("pk").first()
    payload = {(f"qty_{first.pk}" if key == "first" else key): value for key, value in data.items()}

    response = client.post(_url(placed, "return/"), payload, **EN)

    assert response.status_code == 200
    assert error in _html(response)
    assert not ReturnRequest.objects.exists()


def test_return_request_is_refused_before_delivery(client, shop, shopper):
    placed = place(shop, user=shopper)
    pay(placed.order_id)

    response = client.post(
        _url(placed, "return/"), {"qty_1": "1", "reason": "Too big"}, follow=True, **EN
    )

    assert "This order cannot be returned now." in _html(response)
    assert not ReturnRequest.objects.exists()


def test_order_pages_make_a_bounded_number_of_queries(
    client, shop, shopper, django_assert_max_num_queries
):
    placed = [place(shop, quantities=(1, 1), user=shopper) for _ in range(3)]
    ship_all(pay(placed[0].order_id))
    client.get("/account/", **EN)  # warm the session and caches

    with django_assert_max_num_queries(12):
        detail = client.get(_url(placed[0]), **EN)
    with django_assert_max_num_queries(6):
        history = client.get("/account/orders/", **EN)
    with django_assert_max_num_queries(9):  # 1 of them: the pay-again URL
        status = client.get(_url(placed[1], "status/"), **HTMX)

    assert detail.status_code == history.status_code == status.status_code == 200


def _declined(placed):
    """The bank declines the payment and its TRADE_CLOSED notification arrives."""
    from omnimall.orders.services import payment as order_payment
    from omnimall.payments.gateways import sandbox, sandbox_bank
    from omnimall.payments.models import Payment

    first = Payment.objects.get(order_id=placed.order_id)
    sandbox_bank.decline_trade(first.trade_no)
    notification = sandbox.notification_for(first.out_trade_no, "TRADE_CLOSED")
    assert order_payment.settle_notification(
        gateway="sandbox", params=notification, remote_addr=None
    )
    return first


def test_pay_again_after_a_decline_starts_a_fresh_payment_that_pays_the_order(client, shop):
    from omnimall.payments.models import Payment

    placed = place(shop)
    first = _declined(placed)
    page = client.get(_url(placed) + f"?token={placed.guest_token}&payment=declined", **EN)
    assert "Pay again" in _html(page)

    response = client.post(_url(placed, "pay/") + f"?token={placed.guest_token}", **EN)

    second = Payment.objects.filter(order_id=placed.order_id).exclude(pk=first.pk).get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/payments/sandbox/pay/{second.trade_no}/")
    first.refresh_from_db()
    assert (first.state, second.state) == ("failed", "pending")
    pay(placed.order_id)
    assert Order.objects.get(pk=placed.order_id).state in (domain.PAID, "allocated")


def test_pay_again_is_refused_with_a_message_once_the_hold_lapsed(client, shop):
    from datetime import timedelta

    import time_machine

    from omnimall.core import clock
    from omnimall.payments.models import Payment

    placed = place(shop)
    _declined(placed)

    with time_machine.travel(clock.now() + timedelta(minutes=16)):
        response = client.post(
            _url(placed, "pay/") + f"?token={placed.guest_token}", follow=True, **EN
        )

    assert "no longer held for this order" in _html(response)
    assert Payment.objects.filter(order_id=placed.order_id).count() == 1
    assert Order.objects.get(pk=placed.order_id).state == domain.PENDING_PAYMENT


# --- the pick-up code's QR code ------------------------------------------------------------


def test_paid_pickup_order_page_shows_the_pickup_code_as_a_qr_code_to_its_owner(
    client, shop, shopper
):
    placed = place(shop, method="pickup", user=shopper)
    order = pay(placed.order_id)

    page = client.get(_url(placed), **EN)
    image = client.get(_url(placed, "pickup-qr.svg"), **EN)

    html = _html(page)
    assert f'src="/orders/{placed.number}/pickup-qr.svg"' in html
    assert f'alt="QR code of pick-up code {order.pickup_code}"' in html
    assert image.status_code == 200
    assert image["Content-Type"] == "image/svg+xml"
    assert image["Cache-Control"] == "private, no-store"
    # The content is exactly the code, drawn by the shop's one QR helper (a full QR
    # code: 21 modules and the quiet zone, 6 px each, never a Micro QR).
    assert image.content == qr.qr_svg(order.pickup_code)
    assert b'width="150" height="150"' in image.content


@pytest.mark.parametrize(("lang", "city"), [(EN, "Shanghai"), (ZH, "上海")])
def test_pickup_order_page_names_the_stores_city_in_the_shoppers_language(
    client, shop, shopper, lang, city
):
    placed = place(shop, method="pickup", user=shopper)
    pay(placed.order_id)

    html = _html(client.get(_url(placed), **lang))

    assert html.count(f"1 Nanjing Road, {city}") == 2  # the pick-up card and the store box
    assert "Shanghai" not in html or city == "Shanghai"


def test_pickup_qr_code_is_served_to_a_guest_holding_the_orders_token_only(client, shop):
    placed = place(shop, method="pickup")
    pay(placed.order_id)
    qr_url = _url(placed, "pickup-qr.svg")

    stranger = client.get(qr_url, **EN)
    wrong = client.get(qr_url + "?token=wrong", **EN)
    page = client.get(_url(placed) + f"?token={placed.guest_token}", **EN)
    with_token = client.get(qr_url + f"?token={placed.guest_token}", **EN)

    assert stranger.status_code == wrong.status_code == 404
    assert f'src="{qr_url}?token={placed.guest_token}"' in _html(page)
    assert with_token.status_code == 200
    assert with_token["Cache-Control"] == "private, no-store"


def test_pickup_qr_code_is_not_found_for_another_signed_in_shopper(client, shop):
    placed = place(shop, method="pickup", user=_user("owner@example.com"))
    pay(placed.order_id)
    client.force_login(_user("other@example.com"))

    response = client.get(_url(placed, "pickup-qr.svg"), **EN)

    assert response.status_code == 404


def test_pickup_qr_code_is_not_found_for_a_delivery_or_an_unpaid_order(client, shop, shopper):
    delivery = place(shop, user=shopper)
    pay(delivery.order_id)
    unpaid = place(shop, method="pickup", user=shopper)

    for placed in (delivery, unpaid):
        assert client.get(_url(placed, "pickup-qr.svg"), **EN).status_code == 404
        assert "pickup-qr" not in _html(client.get(_url(placed), **EN))


def test_pickup_qr_code_is_served_while_ready_and_not_once_picked_up(client, shop, shopper):
    order = make_ready_pickup(shop, user=shopper)
    qr_url = f"/orders/{order.number}/pickup-qr.svg"

    ready = client.get(qr_url, **EN)
    with TestCase.captureOnCommitCallbacks(execute=True):
        pickup.hand_over(store_id=shop.store.pk, code=order.pickup_code, actor=ACTOR)
    picked_up = client.get(qr_url, **EN)

    assert ready.status_code == 200
    assert ready.content == qr.qr_svg(order.pickup_code)
    assert Order.objects.get(pk=order.pk).state == domain.PICKED_UP
    assert picked_up.status_code == 404
    assert "pickup-qr" not in _html(client.get(f"/orders/{order.number}/", **EN))


def test_pickup_qr_code_is_not_found_once_the_order_is_cancelled(client, shop, shopper):
    placed = place(shop, method="pickup", user=shopper)
    pay(placed.order_id)
    assert client.get(_url(placed, "pickup-qr.svg"), **EN).status_code == 200

    with TestCase.captureOnCommitCallbacks(execute=True):
        cancellation.cancel_order(
            order_id=placed.order_id, actor=ACTOR, reason="out of stock", by_shopper=False
        )

    assert Order.objects.get(pk=placed.order_id).state == domain.CANCELLED
    assert client.get(_url(placed, "pickup-qr.svg"), **EN).status_code == 404


def test_pickup_qr_code_refuses_post(client, shop, shopper):
    placed = place(shop, method="pickup", user=shopper)
    pay(placed.order_id)

    assert client.post(_url(placed, "pickup-qr.svg")).status_code == 405


def _bag(client):
    from omnimall.checkout.models import Cart

    token = client.session["omnimall_cart"]
    return dict(Cart.objects.get(token=token).lines.values_list("sku__code", "quantity"))


def test_buy_again_puts_the_orders_items_in_the_bag_at_todays_prices(client, shop, shopper):
    placed = place(shop, quantities=(1, 2), user=shopper)
    pay(placed.order_id)

    page = client.get(_url(placed), **EN)
    reply = client.post(_url(placed, "buy-again/"), **EN)
    bag = client.get("/cart/", **EN)

    assert f'action="/orders/{placed.number}/buy-again/"' in _html(page)
    assert reply.status_code == 302
    assert reply["Location"] == "/cart/"
    assert _bag(client) == {shop.skus[0].code: 1, shop.skus[1].code: 2}
    assert "2 items of order" in _html(bag)


def test_buy_again_skips_what_is_off_sale_and_adds_the_rest(client, shop, shopper):
    placed = place(shop, quantities=(1, 2), user=shopper)
    pay(placed.order_id)
    off_sale = shop.skus[1]
    off_sale.is_active = False
    off_sale.save(update_fields=["is_active"])

    client.post(_url(placed, "buy-again/"), **EN)
    bag = _html(client.get("/cart/", **EN))

    assert _bag(client) == {shop.skus[0].code: 1}
    assert "Not added (not for sale now, or your bag is full)" in bag
    assert off_sale.product.name_en in bag


def test_a_guest_buys_again_with_the_orders_token_and_a_stranger_gets_404(client, shop):
    placed = place(shop, quantities=(1,))
    pay(placed.order_id)
    order = Order.objects.get(pk=placed.order_id)

    stranger = client.post(_url(placed, "buy-again/"), **EN)
    guest = client.post(_url(placed, f"buy-again/?token={order.guest_token}"), **EN)

    assert stranger.status_code == 404
    assert guest.status_code == 302
    assert _bag(client) == {shop.skus[0].code: 1}


def test_buy_again_is_a_post(client, shop, shopper):
    placed = place(shop, quantities=(1,), user=shopper)

    assert client.get(_url(placed, "buy-again/"), **EN).status_code == 405
