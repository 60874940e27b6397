"""Orders that need attention, dealt with by staff (``orders.services.attention``): allocate
a flagged order again once stock is there, or lift the flag saying what was done; and the
back office's buttons for both."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase
from django.urls import reverse

from omnimall.core import clock
from omnimall.core.errors import ValidationFailedError
from omnimall.core.models import AuditEntry
from omnimall.core.roles import CUSTOMER_SERVICE
from omnimall.inventory import services as inventory
from omnimall.inventory.models import FulfilmentRequest, Reservation
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders import domain
from omnimall.orders.models import Order, OrderEvent
from omnimall.orders.services import attention, cancellation
from tests.inventory.factories import level_of
from tests.orders.factories import ACTOR, make_shop, pay, place, request_ids
from tests.orders.test_readdress_admin import page_url, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = False


def refused_delivery(shop) -> Order:
    """A paid delivery whose warehouse refused it, with nowhere else to send it: flagged."""
    order = pay(place(shop).order_id)
    for request_id in request_ids(order):
        with TestCase.captureOnCommitCallbacks(execute=True):
            inventory_fulfilment.reject_fulfilment_request(
                request_id=request_id, reason="cannot find it", actor=ACTOR
            )
    order.refresh_from_db()
    assert order.needs_attention
    assert request_ids(order) == []
    return order


def test_a_refused_delivery_is_allocated_again_once_the_goods_are_found():
    shop = make_shop(units=10, store_units=0)
    order = refused_delivery(shop)

    again = attention.allocate_again(order_id=order.pk, actor=ACTOR)

    assert not again.needs_attention
    assert again.state == domain.ALLOCATED
    [request] = FulfilmentRequest.objects.filter(pk__in=request_ids(again))
    assert (request.location_id, request.state) == (shop.warehouse.pk, "open")
    assert [level_of(shop.warehouse, sku).reserved for sku in shop.skus] == [1, 2]
    event = OrderEvent.objects.filter(order=order, data__by_staff=True).get()
    assert event.message == f"re-allocated to {request.number}"
    assert AuditEntry.objects.filter(action="order.allocated_again").count() == 1


def test_still_short_changes_nothing():
    shop = make_shop(units=2, store_units=0)
    order = refused_delivery(shop)
    for sku in shop.skus:  # the warehouse's count finds the units gone
        inventory.adjust_stock(
            location_id=shop.warehouse.pk,
            sku_id=sku.pk,
            quantity=-2,
            reason="count",
            actor=ACTOR,
        )
    events = OrderEvent.objects.filter(order=order).count()

    with pytest.raises(attention.StillShortError) as short:
        attention.allocate_again(order_id=order.pk, actor=ACTOR)

    assert short.value.details["shortages"]
    order.refresh_from_db()
    assert order.needs_attention
    assert request_ids(order) == []
    assert OrderEvent.objects.filter(order=order).count() == events


def test_a_paid_order_whose_holds_lapsed_is_allocated_again_when_stock_comes_back():
    shop = make_shop(units=2, skus=1, store_units=0)
    first = place(shop, quantities=(2,))
    Reservation.objects.filter(owner_id=first.number).update(
        expires_at=clock.now() - timedelta(minutes=1)
    )
    inventory.release_expired_reservations()
    second = place(shop, quantities=(2,))  # took the units the first one let go
    paid = pay(first.order_id)
    assert (paid.state, paid.needs_attention) == (domain.PAID, True)

    with pytest.raises(attention.StillShortError):
        attention.allocate_again(order_id=paid.pk, actor=ACTOR)
    cancellation.cancel_order(
        order_id=second.order_id, actor=ACTOR, reason="changed mind", by_shopper=True
    )
    again = attention.allocate_again(order_id=paid.pk, actor=ACTOR)

    assert again.state == domain.ALLOCATED
    assert not again.needs_attention
    assert len(request_ids(again)) == 1


def test_an_order_not_flagged_has_nothing_to_allocate_again():
    shop = make_shop(units=10)
    order = pay(place(shop).order_id)

    with pytest.raises(attention.NothingToAllocateError):
        attention.allocate_again(order_id=order.pk, actor=ACTOR)


def test_marking_it_dealt_with_needs_a_note_and_lifts_the_flag():
    shop = make_shop(units=10, store_units=0)
    order = refused_delivery(shop)

    with pytest.raises(ValidationFailedError):
        attention.mark_dealt_with(order_id=order.pk, note="  ", actor=ACTOR)
    done = attention.mark_dealt_with(
        order_id=order.pk, note="Called the shopper:\nwill wait", actor=ACTOR
    )
    again = attention.mark_dealt_with(order_id=order.pk, note="again", actor=ACTOR)

    assert not done.needs_attention
    assert not again.needs_attention
    event = OrderEvent.objects.filter(order=order).latest("pk")
    assert event.message == "dealt with: Called the shopper: will wait"
    assert AuditEntry.objects.filter(action="order.attention_resolved").count() == 1


def test_back_office_buttons_allocate_again_and_mark_it_dealt_with():
    shop = make_shop(units=10, store_units=0)
    refused = refused_delivery(shop)
    other = refused_delivery(shop)
    client, agent = staff_client(CUSTOMER_SERVICE)
    dealt_with = reverse("admin:orders_order_dealt_with", args=[other.pk])

    page = client.get(page_url(refused)).content.decode()
    allocated = client.post(
        reverse("admin:orders_order_act", args=[refused.pk, "allocate_again"]), follow=True
    )
    empty = client.post(dealt_with, {"note": ""})
    done = client.post(dealt_with, {"note": "Refunded by phone"}, follow=True)

    assert "Try allocating again" in page
    assert reverse("admin:orders_order_dealt_with", args=[refused.pk]) in page
    assert "allocated again" in allocated.content.decode()
    assert not Order.objects.get(pk=refused.pk).needs_attention
    assert empty.status_code == 200
    assert "errorlist" in empty.content.decode()
    assert "no longer needs attention" in done.content.decode()
    assert not Order.objects.get(pk=other.pk).needs_attention
    entry = AuditEntry.objects.get(action="order.attention_resolved")
    assert entry.actor_user_id == agent.pk
    assert "Try allocating again" not in client.get(page_url(refused)).content.decode()


def test_the_order_list_says_what_a_flagged_order_needs():
    shop = make_shop(units=10, store_units=0)
    flagged = refused_delivery(shop)
    fine = pay(place(shop).order_id)
    client, _ = staff_client(CUSTOMER_SERVICE)

    listed = client.get(reverse("admin:orders_order_changelist")).content.decode()

    assert "no other location can serve them" in listed
    assert listed.count("no other location can serve them") == 1
    assert flagged.number in listed
    assert fine.number in listed
