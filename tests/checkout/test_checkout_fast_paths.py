"""Checkout's per-process shortcuts answer exactly as the slow way: the URLs reversed once per
URL configuration (the return URL, the order link in emails, the sandbox pay page) are what
``reverse`` gives, and the answer built without validation dumps as the validated one."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from omnimall.checkout.links import order_path_template, order_return_url, order_url
from omnimall.orders.models import Order
from omnimall.orders.services.messages import order_link
from omnimall.payments.gateways.sandbox import pay_path


def test_order_path_template_is_the_reversed_order_page() -> None:
    expected = reverse("account:order_detail", args=["261127482193"])
    assert order_path_template().replace("{number}", "261127482193") == expected
    assert order_path_template() == order_path_template()  # cached, same answer
    assert order_return_url("https://shop.example/") == (
        "https://shop.example" + expected.replace("261127482193", "{number}") + "?token={token}"
    )
    assert order_url(number="261127482193", guest_token="t") == expected + "?token=t"


@pytest.mark.parametrize("number", ["261127482193", "A1", "a b?c#", "订单1"])
def test_order_link_is_reverse_for_any_number(number: str) -> None:
    order = Order(number=number, guest_token="tok-en_1")
    path = reverse("account:order_detail", args=[number])
    assert order_link(order) == f"{settings.SITE_URL}{path}?token=tok-en_1"


@pytest.mark.parametrize("trade_no", ["2026112722000123456789012345", "X9", "a b?c", "号1"])
def test_sandbox_pay_path_is_reverse_for_any_trade_number(trade_no: str) -> None:
    assert pay_path(trade_no) == reverse("payments:sandbox_pay", args=[trade_no])


@override_settings(FORCE_SCRIPT_NAME="/shop/")
def test_a_script_prefix_is_its_own_cache_entry() -> None:
    from django.urls import set_script_prefix

    set_script_prefix("/shop/")
    try:
        assert pay_path("123") == reverse("payments:sandbox_pay", args=["123"])
        assert pay_path("123").startswith("/shop/")
        order = Order(number="261127482193", guest_token="t")
        assert order_link(order).startswith(f"{settings.SITE_URL}/shop/")
        assert order_path_template().startswith("/shop/")
    finally:
        set_script_prefix("/")
    assert pay_path("123") == reverse("payments:sandbox_pay", args=["123"])
    assert not pay_path("123").startswith("/shop/")


@pytest.mark.parametrize("points", [0, 150])
def test_checkout_out_built_without_validation_dumps_as_validated(points: int) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from omnimall.checkout.schemas import CheckoutOut, checkout_out
    from omnimall.orders.services.placement import PlacedOrder

    placed = PlacedOrder(
        order_id=7,
        number="261127482193",
        guest_token="tok",
        payment_url="/payments/sandbox/pay/1/",
        total=Decimal("123.40"),
        reserved_until=datetime(2026, 11, 27, 22, 40, 1, 123456, tzinfo=UTC),
        points_used=points,
        points_value=Decimal(points) / 100,
    )
    out = checkout_out(placed, currency="CNY", payment_url="https://shop/pay")
    dumped = out.model_dump(mode="json")
    assert CheckoutOut.model_validate(dumped).model_dump(mode="json") == dumped
    assert CheckoutOut.model_validate(out.model_dump()).model_dump(mode="json") == dumped
    assert out.model_dump_json() == CheckoutOut.model_validate(dumped).model_dump_json()
