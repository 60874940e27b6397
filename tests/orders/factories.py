"""Orders test data: a small shop (warehouse, store), placed, paid and allocated orders.

Other apps' tests may use these helpers (``make_shop``, ``place``, ``pay``,
``make_paid_order``, ``make_shipped_order``, ``make_ready_pickup``, ``wms_token``).
On-commit work (allocation, fulfilment event handlers) runs inside the helpers.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, TestCase

from omnimall.catalog.models import Sku
from omnimall.core import api_keys
from omnimall.core.actors import Actor
from omnimall.core.roles import STORE_STAFF
from omnimall.inventory import services as inventory
from omnimall.inventory.models import LocationKind, StockLocation
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders.models import Order, OrderAllocation
from omnimall.orders.services import payment, placement
from omnimall.payments import selectors as payment_selectors
from omnimall.payments.gateways import sandbox, sandbox_bank
from tests.inventory.factories import make_location, make_skus

ACTOR = Actor.system("orders-tests")
NOTIFY_URL = "http://testserver/payments/notify/sandbox/"
_n = itertools.count(1)


@dataclass
class Shop:
    warehouse: StockLocation
    store: StockLocation
    skus: list[Sku]


def make_shop(*, units: int = 10, skus: int = 2, store_units: int | None = None) -> Shop:
    """A shipping warehouse and a pick-up store in Shanghai, each stocking ``skus`` SKUs."""
    n = next(_n)
    warehouse = make_location(f"o-wh-{n}", priority=10, can_ship=True)
    store = make_location(
        f"o-st-{n}",
        kind=LocationKind.STORE,
        priority=50,
        can_ship=False,
        offers_pickup=True,
        address="1 Nanjing Road",
        opening_hours="10:00-22:00",
    )
    made = make_skus(skus)
    for sku in made:
        inventory.receive_stock(
            location_id=warehouse.pk, sku_id=sku.pk, quantity=units, actor=ACTOR
        )
        if store_units != 0:
            inventory.receive_stock(
                location_id=store.pk,
                sku_id=sku.pk,
                quantity=units if store_units is None else store_units,
                actor=ACTOR,
            )
    return Shop(warehouse=warehouse, store=store, skus=made)


def priced(sku: Sku, quantity: int, price: str = "59.90") -> placement.PricedLine:
    return placement.PricedLine(
        sku_id=sku.pk,
        sku_code=sku.code,
        product_name=f"Product {sku.code}",
        variant=f"{sku.size} {sku.colour}",
        unit_price=Decimal(price),
        quantity=quantity,
    )


ADDRESS = {
    "name": "Li Lei",
    "phone": "13800138000",
    "province": "上海市",
    "city": "Shanghai",
    "district": "黄浦区",
    "street": "南京东路 1 号",
}


def place(
    shop: Shop,
    *,
    quantities: tuple[int, ...] = (1, 2),
    method: str = "ship",
    user: Any = None,
    shipping: str = "0.00",
    email: str = "shopper@example.com",
    phone: str = "13800138000",
    **extra: Any,
) -> placement.PlacedOrder:
    return placement.place_order(
        lines=[priced(sku, q) for sku, q in zip(shop.skus, quantities, strict=False)],
        contact=placement.Contact(name="Li Lei", email=email, phone=phone),
        method=method,
        ship_to=dict(ADDRESS) if method == "ship" else None,
        pickup_store_id=shop.store.pk if method == "pickup" else None,
        shipping=Decimal(shipping),
        user_id=getattr(user, "pk", None),
        cart_token=uuid.uuid4().hex,
        notify_url=NOTIFY_URL,
        return_url="",
        **extra,
    )


def out_trade_no(order_id: int) -> str:
    return payment_selectors.list_payments_of_order(order_id)[-1].out_trade_no


def notification(order_id: int, status: str = "TRADE_SUCCESS") -> dict[str, str]:
    return sandbox.notification_for(out_trade_no(order_id), status)


def pay_at_gateway(order_id: int) -> None:
    """The shopper pays on the sandbox's page (the bank's books say paid)."""
    trade_no = payment_selectors.list_payments_of_order(order_id)[-1].trade_no
    sandbox_bank.pay_trade(trade_no)


def pay(order_id: int) -> Order:
    """The shopper pays and the gateway notifies the capture; allocation (after commit)
    runs too."""
    pay_at_gateway(order_id)
    params = notification(order_id)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert payment.settle_notification(gateway="sandbox", params=params, remote_addr=None)
    return Order.objects.get(pk=order_id)


def make_paid_order(shop: Shop | None = None, **place_kwargs: Any) -> Order:
    """A placed, paid and allocated order (fulfilment requests created)."""
    shop = shop or make_shop()
    placed = place(shop, **place_kwargs)
    return pay(placed.order_id)


def request_ids(order: Order, *, live: bool = True) -> list[int]:
    return sorted(
        set(
            OrderAllocation.objects.filter(line__order=order, is_live=live)
            .exclude(fulfilment_line=None)
            .values_list("fulfilment_line__request_id", flat=True)
        )
    )


def ship_all(order: Order, *, carrier: str = "SF Express", tracking: str = "SF100") -> Order:
    for request_id in request_ids(order):
        with TestCase.captureOnCommitCallbacks(execute=True):
            inventory_fulfilment.record_shipment(
                request_id=request_id, carrier=carrier, tracking_number=tracking, actor=ACTOR
            )
    order.refresh_from_db()
    return order


def make_shipped_order(shop: Shop | None = None, **place_kwargs: Any) -> Order:
    return ship_all(make_paid_order(shop, **place_kwargs))


def make_ready_pickup(shop: Shop | None = None, **place_kwargs: Any) -> Order:
    """A paid pick-up order its store has put aside (``ready_for_pickup``)."""
    order = make_paid_order(shop, method="pickup", **place_kwargs)
    for request_id in request_ids(order):
        with TestCase.captureOnCommitCallbacks(execute=True):
            inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)
    order.refresh_from_db()
    return order


def wms_token(bound_to: str = "") -> str:
    return api_keys.create_api_key(
        name=f"wms-{uuid.uuid4().hex[:6]}", scopes=["wms"], actor=ACTOR, bound_to=bound_to
    ).token


def store_token(store: StockLocation) -> str:
    return api_keys.create_api_key(
        name=f"store-{uuid.uuid4().hex[:6]}", scopes=["store"], actor=ACTOR, bound_to=store.code
    ).token


def store_clerk(*stores: StockLocation) -> tuple[Client, Any]:
    """A signed-in client of a store staff member working at ``stores``, and the user."""
    clerk = get_user_model().objects.create_user(
        username=f"clerk-{uuid.uuid4().hex[:6]}", password="pw-123456!", is_staff=True
    )
    clerk.groups.add(Group.objects.get(name=STORE_STAFF))
    for store in stores:
        store.staff.add(clerk)
    client = Client()
    client.force_login(clerk)
    return client, clerk
