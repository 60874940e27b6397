"""One member, one points ledger, in store and online, end to end in a real browser.

1. The member buys a coat in a store: the till posts the receipt to ``POST
   /api/v1/pos/sales`` with the store's POS key and the member's phone; the points are
   earned at once (the till has no return window to wait for).
2. The member signs in on the storefront, sees the points on the member centre page,
   puts a tee in the bag and pays part of it with points at checkout (the page computes
   what is left to pay), then pays the rest on the sandbox bank's page; the bank's signed
   notification reaches the shop through the outbox as real HTTP.
3. The order is picked up in the store (fulfilment accepted, code handed over), the
   member asks for a return on the order page; staff approve, receive and refund it
   (services). The gateway refunds only the money part; the points spent come back and
   the points earned online (still pending) are taken back.
4. The member centre page shows the points restored: exactly the points earned in the
   store, with the spend and its restoration in the history.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from omnimall.core import api_keys
from omnimall.core.actors import Actor
from omnimall.inventory import services as inventory
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.members.models import Member
from omnimall.members.selectors.points import ledger_mismatches
from omnimall.members.services.identity import enrol_member
from omnimall.orders.models import Order, ReturnRequest
from omnimall.orders.services import pickup, returns
from omnimall.payments.models import Refund
from tests.catalog.factories import BrandFactory, make_category, make_product
from tests.e2e.shoppers import make_shopper, sign_in
from tests.inventory.factories import make_pickup_store

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
STAFF = Actor.system("e2e staff")
PHONE = "+8613800138111"
EMAIL = "meimei@example.com"
PASSWORD = "member-pw-2026!"


@pytest.fixture
def shop(settings):
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = True  # the bank's notification goes out for real
    settings.POINTS_PER_CNY_VALUE = 100
    settings.POINTS_MAX_SHARE = "0.50"
    category = make_category("clothes", name_en="Clothes", name_zh="服装")
    brand = BrandFactory(slug="northwind", name_en="Northwind", name_zh="北风")
    tee = make_product(
        category=category,
        brand=brand,
        slug="cotton-tee",
        name_en="Cotton Tee",
        name_zh="纯棉T恤",
        variants=(("M", "black", "49.00"),),
    )
    coat = make_product(
        category=category,
        brand=brand,
        slug="wool-coat",
        name_en="Wool Coat",
        name_zh="羊毛大衣",
        variants=(("L", "grey", "1999.00"),),
    )
    store = make_pickup_store("sh-member")
    for product in (tee, coat):
        for sku in product.skus.all():
            inventory.receive_stock(location_id=store.pk, sku_id=sku.pk, quantity=5, actor=STAFF)
    user = make_shopper(EMAIL, PASSWORD)
    enrol_member(phone=PHONE, actor=STAFF, name="Han Meimei", user_id=user.pk)
    return tee.skus.get(), coat.skus.get(), store, user


def _buy_in_store(store, coat_sku) -> dict:
    key = api_keys.create_api_key(
        name="till-1", scopes=["pos"], actor=STAFF, bound_to=store.code
    ).token
    till = Client(HTTP_X_API_KEY=key)
    response = till.post(
        "/api/v1/pos/sales",
        {
            "store": store.code,
            "receipt_number": "R-0001",
            "occurred_at": "2026-11-27T10:00:00+08:00",
            "lines": [{"sku": coat_sku.code, "quantity": 1, "unit_price": "1999.00"}],
            "payments": [{"method": "card", "amount": "1999.00"}],
            "member": {"phone": PHONE},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def _points_on_member_centre(page, base: str) -> tuple[int, int]:
    page.goto(base + "/account/member/")
    available = int(page.locator("#points-available").inner_text().strip())
    pending = int(page.locator("#points-pending").inner_text().strip())
    return available, pending


def test_member_earns_in_store_spends_online_returns_and_sees_points_restored(
    live_server, page, shop
):
    tee_sku, coat_sku, store, _user = shop
    base = live_server.url

    # 1. In store: 1999.00 at the standard tier (1 point per CNY), available at once.
    _buy_in_store(store, coat_sku)
    member = Member.objects.get(phone=PHONE)
    assert member.points_available == 1999

    # 2. Online: sign in, see the points, pay 1500 of them (¥15 of a ¥49 tee, at most half).
    sign_in(page, base, email=EMAIL, password=PASSWORD)
    assert _points_on_member_centre(page, base) == (1999, 0)
    page.goto(f"{base}/p/cotton-tee/?sku={tee_sku.code}")
    page.wait_for_load_state("networkidle")  # the add-to-bag form is an HTMX fragment
    page.locator("form.add-to-cart button[type=submit]").click()
    page.locator(".add-ok").wait_for(timeout=20_000)
    page.goto(base + "/checkout/")
    page.fill("#id_name", "Han Meimei")
    page.fill("#id_email", EMAIL)
    page.fill("#id_phone", "13800138111")
    page.check("#method-pickup")
    page.fill("#id_store_city", "Shanghai")
    page.locator(f"#store-picker input[value='{store.code}']").check()
    assert "use up to 1999 points" in page.locator(".points-offer").inner_text()
    page.fill("#id_points", "1500")
    page.locator("button[name=action][value=points]").click()
    page.locator("dd.amount-due").wait_for()
    assert page.locator("dd.amount-due").inner_text().strip() == "¥34"
    assert page.locator("#id_points").input_value() == "1500"
    page.locator("button[name=action][value=pay]").click()
    page.wait_for_url(re.compile(r"/payments/sandbox/pay/"))
    page.locator("button.bank-pay").click()
    page.wait_for_url(re.compile(r"/orders/\d{12}/"))
    page.locator(".pickup-code").wait_for(state="visible", timeout=20_000)
    order = Order.objects.get()
    assert (order.points_used, order.points_value) == (1500, Decimal("15.00"))
    assert order.amount_paid == Decimal("34.00")
    assert order.points_earned == 34  # earned on the money part only, pending
    assert "Paid with 1500 points" in page.locator("main").inner_text()
    assert _points_on_member_centre(page, base) == (499, 34)

    # 3. Put aside; the member cannot come this week and keeps it 3 days longer. Picked up
    # in the store, then returned: requested on the order page, staff approve, receive and
    # refund.
    for request_id in order_fulfilment_requests(order):
        inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=STAFF)
    order.refresh_from_db()
    page.goto(f"{base}/orders/{order.number}/")
    assert "Collect it by" in page.locator(".pickup-deadline").inner_text()
    page.locator(".pickup-keep button").click()
    page.locator(".pickup-keep").wait_for(state="detached")
    assert "The store keeps your order until" in page.locator("main").inner_text()
    kept = Order.objects.get(pk=order.pk)
    assert kept.collect_by == order.collect_by + timedelta(days=3)
    pickup.hand_over(store_id=store.pk, code=order.pickup_code, actor=STAFF)
    page.goto(f"{base}/orders/{order.number}/")
    page.locator("a", has_text="Request a return").click()
    page.locator(".return-line input").first.fill("1")
    page.fill("[name=reason]", "Too small")
    page.locator("form.return-form button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/orders/{order.number}/"))
    request = ReturnRequest.objects.get(order=order)
    returns.approve_return(return_id=request.pk, actor=STAFF)
    returns.receive_return(return_id=request.pk, location_id=store.pk, actor=STAFF)
    returns.refund_return(return_id=request.pk, actor=STAFF)

    order.refresh_from_db()
    assert order.state == "returned"
    assert Refund.objects.get(payment__order=order).amount == Decimal("34.00")

    # 4. The member centre shows the points restored; the ledger is exact.
    assert _points_on_member_centre(page, base) == (1999, 0)
    history = page.locator(".points-table").inner_text()
    assert order.number in history or "1500" in history
    assert ledger_mismatches() == []


def order_fulfilment_requests(order: Order) -> list[int]:
    from omnimall.orders.models import OrderAllocation

    return sorted(
        set(
            OrderAllocation.objects.filter(line__order=order, is_live=True)
            .exclude(fulfilment_line=None)
            .values_list("fulfilment_line__request_id", flat=True)
        )
    )
