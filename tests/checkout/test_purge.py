"""The nightly purge of carts nobody will come back to (``checkout.services.purge``)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from omnimall.checkout.models import Cart, CartLine, CartState
from omnimall.checkout.services.purge import purge_stale_carts
from omnimall.checkout.tasks import purge_stale_carts_task
from omnimall.core import clock
from omnimall.orders.models import Order
from tests.checkout.conftest import ADDRESS, CONTACT

pytestmark = pytest.mark.django_db


def post(client, path, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def cart_with(client, sku, *, at, quantity=1):
    """A cart created (and a line added, unless ``sku`` is None) at ``at``."""
    with time_machine.travel(at, tick=False):
        token = post(client, "/api/v1/carts").json()["id"]
        if sku is not None:
            reply = post(client, f"/api/v1/carts/{token}/lines", {"sku": sku.code, "quantity": 1})
            assert reply.status_code in (200, 201), reply.content
    return token


def left(*tokens):
    return set(Cart.objects.filter(token__in=tokens).values_list("token", flat=True))


def test_guest_carts_go_after_30_quiet_days_saved_bags_after_90(shop, client, shopper):
    now = clock.now()
    old_guest = cart_with(client, shop.tee_s, at=now - timedelta(days=31))
    recent_guest = cart_with(client, shop.tee_s, at=now - timedelta(days=29))
    client.force_login(shopper)
    saved_bag = cart_with(client, shop.tee_s, at=now - timedelta(days=31))
    Cart.objects.filter(token=saved_bag).update(user=shopper)

    assert purge_stale_carts(now=now) == 1
    assert left(old_guest, recent_guest, saved_bag) == {recent_guest, saved_bag}
    assert not CartLine.objects.filter(cart__token=old_guest).exists()

    assert purge_stale_carts(now=now + timedelta(days=60)) == 2  # 91 and 89 + 60 days quiet
    assert left(saved_bag) == set()


def test_a_line_added_lately_keeps_an_old_cart(shop, client):
    now = clock.now()
    token = cart_with(client, shop.tee_s, at=now - timedelta(days=40))
    with time_machine.travel(now - timedelta(days=2), tick=False):
        post(client, f"/api/v1/carts/{token}/lines", {"sku": shop.shirt_l.code, "quantity": 1})

    assert purge_stale_carts(now=now) == 0
    assert left(token) == {token}


def test_an_empty_cart_goes_after_a_day(shop, client):
    now = clock.now()
    yesterday = cart_with(client, None, at=now - timedelta(hours=25))
    this_morning = cart_with(client, None, at=now - timedelta(hours=3))

    assert purge_stale_carts(now=now) == 1
    assert left(yesterday, this_morning) == {this_morning}


def test_a_checked_out_cart_goes_once_its_checkout_cannot_be_retried_and_the_order_stays(
    shop, client
):
    now = clock.now()
    token = cart_with(client, shop.tee_s, at=now - timedelta(days=31))
    with time_machine.travel(now - timedelta(days=31), tick=False):
        placed = post(
            client,
            f"/api/v1/carts/{token}/checkout",
            {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS},
        )
    assert placed.status_code == 201, placed.content
    assert Cart.objects.get(token=token).state == CartState.CHECKED_OUT

    assert purge_stale_carts(now=now - timedelta(days=2)) == 0  # 29 days: still retryable
    assert purge_stale_carts(now=now) == 1
    order = Order.objects.get(number=placed.json()["order"]["number"])
    assert (order.cart_token, order.lines.count()) == (token, 1)
    assert client.get(f"/api/v1/orders/{order.number}?token={order.guest_token}").status_code == 200


def test_the_purge_deletes_in_chunks_with_a_few_statements_each(shop, client):
    now = clock.now()
    for _ in range(5):
        cart_with(client, shop.tee_s, at=now - timedelta(days=40))

    with CaptureQueriesContext(connection) as chunked:
        assert purge_stale_carts(now=now, chunk=2) == 5

    # per chunk: read the ids, then the delete's read, lines and carts (and a savepoint pair)
    assert len(chunked.captured_queries) <= 3 * 6
    assert not Cart.objects.exists()
    assert not CartLine.objects.exists()


def test_the_nightly_task_purges(shop, client, settings):
    cart_with(client, shop.tee_s, at=clock.now() - timedelta(days=31))

    assert purge_stale_carts_task() == 1
    scheduled = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled["checkout.purge_stale_carts"] == 24 * 60 * 60.0
