"""Cancelling an order and confirming receipt ask first, in a real browser (Playwright
driving Chromium)."""

from __future__ import annotations

import pytest

from omnimall.orders.models import Order
from tests.orders.factories import make_shop, pay, place, ship_all

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_cancel_asks_first_and_a_no_changes_nothing(live_server, page, settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    placed = place(make_shop(), quantities=(1,))
    token = Order.objects.get(pk=placed.order_id).guest_token
    page.goto(f"{live_server.url}/orders/{placed.number}/?token={token}")
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name="Cancel order").click()
    page.wait_for_timeout(300)  # a dismissed dialog submits nothing: give it the chance
    assert Order.objects.get(pk=placed.order_id).state == "pending_payment"

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel order").click()

    assert asked == [asked[0], asked[0]]
    assert asked[0].startswith("Cancel this order?")
    assert Order.objects.get(pk=placed.order_id).state == "cancelled"
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
        page.get_by_role("button", name="Cancel order").click()
    assert "Your refund is on its way." in page.content()

    page.goto(f"{live_server.url}/orders/{shipped.number}/?token={shipped.guest_token}")
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm receipt").click()
    assert "the order is marked as received" in page.content()

    assert asked[0].startswith("Cancel this order? Nothing has been prepared yet")
    assert asked[1].startswith("Has everything in this order arrived?")
    paid.refresh_from_db()
    assert (paid.state, paid.amount_refunded) == ("cancelled", paid.amount_paid)
    assert Order.objects.get(pk=shipped.pk).state == "delivered"
