"""A delivery's address changed before a warehouse takes the order on
(``orders.services.readdress``): the order, its open requests, the timeline, a webhook."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import TestCase

from omnimall.checkout.errors import NoDeliveryToRegionError
from omnimall.checkout.models import ShippingZone
from omnimall.checkout.services.shipping import save_shipping_zone
from omnimall.core.models import AuditEntry, OutboxMessage, WebhookSubscription
from omnimall.inventory.models import FulfilmentRequest
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders.errors import (
    AddressNotChangeableError,
    DeliveryFeeDiffersError,
    InvalidShipToError,
    OrderBeingPreparedError,
)
from omnimall.orders.models import Order, OrderEvent
from omnimall.orders.services.readdress import change_ship_to
from omnimall.payments.models import EntryKind, PaymentEntry
from tests.orders.factories import ACTOR, make_shop, pay, place, request_ids, ship_all

pytestmark = pytest.mark.django_db

HANGZHOU = {
    "name": "韩梅梅",
    "phone": "139 0013 9000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "street": "文三路 8 号",
    "postal_code": "310000",
}


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    WebhookSubscription.objects.create(
        name="WMS", url="https://wms.example.cn/hooks", secret="s", topics=["order.address_changed"]
    )


@pytest.fixture
def shop():
    return make_shop(units=20)


def paid_order(shop) -> Order:
    return pay(place(shop).order_id)


def test_a_paid_order_and_its_open_requests_go_to_the_new_address(shop):
    order = paid_order(shop)

    changed = change_ship_to(order_id=order.pk, address=HANGZHOU, actor=ACTOR)

    assert changed.ship_to["city"] == "杭州市"
    assert changed.ship_to["phone"] == "13900139000"  # cleaned as checkout cleans it
    requests = FulfilmentRequest.objects.filter(pk__in=request_ids(order))
    assert {r.ship_to["street"] for r in requests} == {"文三路 8 号"}
    event = OrderEvent.objects.filter(order=order, data__after__city="杭州市").get()
    assert event.data["before"]["city"] == "Shanghai"
    assert AuditEntry.objects.filter(action="order.address_changed").count() == 1
    assert OutboxMessage.objects.filter(topic="order.address_changed").count() == 1


def test_an_order_awaiting_payment_may_change_its_address_too(shop):
    order = Order.objects.get(pk=place(shop).order_id)

    assert change_ship_to(order_id=order.pk, address=HANGZHOU, actor=ACTOR).ship_to["city"] == (
        "杭州市"
    )


def test_the_same_address_again_changes_nothing(shop):
    order = paid_order(shop)
    change_ship_to(order_id=order.pk, address=HANGZHOU, actor=ACTOR)

    change_ship_to(order_id=order.pk, address=HANGZHOU, actor=ACTOR)

    assert AuditEntry.objects.filter(action="order.address_changed").count() == 1


def test_once_a_warehouse_accepts_the_order_its_address_stays(shop):
    order = paid_order(shop)
    for request_id in request_ids(order):
        with TestCase.captureOnCommitCallbacks(execute=True):
            inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=ACTOR)

    with pytest.raises(OrderBeingPreparedError) as refused:
        change_ship_to(order_id=order.pk, address=HANGZHOU, actor=ACTOR)

    assert "address can no longer change" in refused.value.message

    assert Order.objects.get(pk=order.pk).ship_to["city"] == "Shanghai"


def test_a_shipped_or_pick_up_order_keeps_its_address(shop):
    shipped = ship_all(paid_order(shop))
    pickup = Order.objects.get(pk=place(shop, method="pickup").order_id)

    for order in (shipped, pickup):
        with pytest.raises(AddressNotChangeableError):
            change_ship_to(order_id=order.pk, address=HANGZHOU, actor=ACTOR)


def test_a_bad_address_is_refused_per_field_and_nothing_changes(shop):
    order = paid_order(shop)

    with pytest.raises(InvalidShipToError) as refused:
        change_ship_to(
            order_id=order.pk, address={**HANGZHOU, "phone": "12", "city": ""}, actor=ACTOR
        )

    assert set(refused.value.details["errors"]) == {"phone", "city"}
    assert Order.objects.get(pk=order.pk).ship_to["city"] == "Shanghai"


def test_a_province_with_another_fee_or_no_delivery_is_refused(shop):
    save_shipping_zone(
        zone=ShippingZone(name_zh="浙江", fee=Decimal("20.00"), free_from=None),
        provinces=["ZJ"],
        actor=ACTOR,
    )
    save_shipping_zone(
        zone=ShippingZone(name_zh="港澳台", fee=Decimal("0"), delivers=False),
        provinces=["TW"],
        actor=ACTOR,
    )
    order = paid_order(shop)

    with pytest.raises(DeliveryFeeDiffersError) as differs:
        change_ship_to(order_id=order.pk, address=HANGZHOU, actor=ACTOR)
    with pytest.raises(NoDeliveryToRegionError):
        change_ship_to(order_id=order.pk, address={**HANGZHOU, "province": "台湾"}, actor=ACTOR)

    assert differs.value.details == {"charged": "0.00", "fee": "20.00"}
    assert Order.objects.get(pk=order.pk).ship_to["city"] == "Shanghai"
    assert not OutboxMessage.objects.filter(topic="order.address_changed").exists()


def test_a_cheaper_delivery_refunds_the_difference_to_a_paid_order(shop):
    order = pay(place(shop, shipping="20.00").order_id)  # charged a remote region's fee
    paid, total = order.amount_paid, order.total

    changed = change_ship_to(order_id=order.pk, address=HANGZHOU, actor=ACTOR)

    assert changed.ship_to["city"] == "杭州市"
    assert (changed.shipping, changed.total) == (Decimal("20.00"), total)  # as charged
    assert changed.amount_paid == paid
    assert changed.amount_refunded == Decimal("20.00")
    assert changed.state == order.state  # still being prepared, not "partly refunded"
    refunds = PaymentEntry.objects.filter(payment__order=order, kind=EntryKind.REFUND)
    assert [entry.amount for entry in refunds] == [Decimal("-20.00")]
    event = OrderEvent.objects.get(order=order, kind="refund")
    assert event.message.startswith("Refunded 20.00 CNY: delivery to the new address costs 0.00")
    assert OutboxMessage.objects.filter(kind="email", topic="order.refunded").count() == 1
    hook = OutboxMessage.objects.get(kind="webhook", topic="order.address_changed")
    assert hook.payload["data"]["amount_refunded"] == "20.00"


def test_an_unpaid_order_keeps_its_fee_whichever_way_it_differs(shop):
    order = Order.objects.get(pk=place(shop, shipping="20.00").order_id)

    with pytest.raises(DeliveryFeeDiffersError):
        change_ship_to(order_id=order.pk, address=HANGZHOU, actor=ACTOR)

    order.refresh_from_db()
    assert (order.shipping, order.amount_refunded) == (Decimal("20.00"), Decimal("0.00"))


def test_the_shop_may_cover_a_dearer_delivery_and_the_shopper_pays_nothing_more(shop):
    save_shipping_zone(
        zone=ShippingZone(name_zh="浙江", fee=Decimal("20.00"), free_from=None),
        provinces=["ZJ"],
        actor=ACTOR,
    )
    order = Order.objects.get(pk=place(shop).order_id)  # unpaid: its payment stays as it is
    total = order.total

    changed = change_ship_to(order_id=order.pk, address=HANGZHOU, actor=ACTOR, shop_covers=True)

    assert changed.ship_to["city"] == "杭州市"
    assert (changed.shipping, changed.total) == (Decimal("0.00"), total)
    assert OrderEvent.objects.filter(order=order, kind="note").get().data["covered"] == "20.00"
    assert not PaymentEntry.objects.filter(payment__order=order, kind=EntryKind.REFUND).exists()


def test_covering_changes_nothing_where_delivery_costs_less(shop):
    order = pay(place(shop, shipping="20.00").order_id)

    changed = change_ship_to(order_id=order.pk, address=HANGZHOU, actor=ACTOR, shop_covers=True)

    assert changed.amount_refunded == Decimal("20.00")  # refunded, as without it
    assert not OrderEvent.objects.filter(order=order, kind="note").exists()
