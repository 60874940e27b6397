"""Cancelling an order (on its own page, asking why) and confirming receipt (asking
first), in a real browser (Playwright driving Chromium)."""

from __future__ import annotations

import pytest

from omnimall.orders.models import Order
from tests.orders.factories import make_shop, pay, place, ship_all

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_cancel_asks_why_on_its_own_page_and_keeping_the_order_changes_nothing(
    live_server, page, settings
):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    placed = place(make_shop(), quantities=(1,))
    token = Order.objects.get(pk=placed.order_id).guest_token
    page.goto(f"{live_server.url}/orders/{placed.number}/?token={token}")

    with page.expect_navigation():
        page.get_by_role("link", name="Cancel order").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Keep the order").click()
    assert Order.objects.get(pk=placed.order_id).state == "pending_payment"

    with page.expect_navigation():
        page.get_by_role("link", name="Cancel order").click()
    page.get_by_role("radio", name="I found it cheaper elsewhere").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel the order").click()

    order = Order.objects.get(pk=placed.order_id)
    assert (order.state, order.cancel_reason) == ("cancelled", "cheaper")
    assert "Your order has been cancelled." in page.content()


def test_a_paid_order_is_cancelled_and_a_shipped_one_received_from_their_pages(
    live_server, page, settings
):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    shop = make_shop()
    paid = pay(place(shop, quantities=(1,)).order_id)
    shipped = ship_all(pay(place(shop, quantities=(1,)).order_id))
    asked: list[str] = []

    def accept(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.goto(f"{live_server.url}/orders/{paid.number}/?token={paid.guest_token}")
    with page.expect_navigation():
        page.get_by_role("link", name="Cancel order").click()
    assert "you get a full refund" in page.content()
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel the order").click()  # no reason given
    assert "Your refund is on its way." in page.content()

    page.goto(f"{live_server.url}/orders/{shipped.number}/?token={shipped.guest_token}")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm receipt").click()
    assert "the order is marked as received" in page.content()

    assert asked == [asked[0]]  # only receipt asks in a dialog: cancelling has its page
    assert asked[0].startswith("Has everything in this order arrived?")
    paid.refresh_from_db()
    assert (paid.state, paid.amount_refunded) == ("cancelled", paid.amount_paid)
    assert paid.cancel_reason == "not_said"
    assert Order.objects.get(pk=shipped.pk).state == "delivered"
