"""The reads behind the printed slips: their query shape, pinned, and what they carry."""

from __future__ import annotations

import pytest
from django.utils import translation

from omnimall.inventory.selectors.slips import (
    list_packing_slips,
    list_printable_requests,
    pick_lines,
)
from omnimall.inventory.services import fulfilment
from omnimall.orders.models import Order
from tests.orders.factories import ACTOR, make_paid_order, make_shop, request_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return make_shop(units=20)


def test_list_packing_slips_reads_any_number_of_requests_in_two_queries(
    shop, django_assert_num_queries
):
    chosen = [request_ids(make_paid_order(shop, method=m))[0] for m in ("ship", "pickup") * 3]

    with django_assert_num_queries(2):
        slips = list_packing_slips(request_ids=chosen, location_ids=None)

    assert [slip.id for slip in slips] == sorted(chosen)
    assert all(len(slip.lines) == 2 for slip in slips)


def test_list_packing_slips_asks_nothing_when_no_request_is_in_scope(
    shop, django_assert_num_queries
):
    chosen = request_ids(make_paid_order(shop, method="ship"))

    with django_assert_num_queries(1):
        slips = list_packing_slips(request_ids=chosen, location_ids=[shop.store.pk])

    assert slips == []


def test_packing_slip_carries_no_price_and_no_pickup_code(shop):
    order = make_paid_order(shop, method="pickup")
    Order.objects.filter(pk=order.pk).update(pickup_code="975319")  # easy to spot

    (slip,) = list_packing_slips(request_ids=request_ids(order), location_ids=None)

    assert "975319" not in repr(slip)
    assert "59.90" not in repr(slip)
    assert slip.phone == "138****8000"
    assert slip.address == ""
    assert slip.order_number == order.number


def test_packing_slip_texts_follow_the_active_language(shop):
    order = make_paid_order(shop, method="ship", quantities=(1,))

    with translation.override("zh-hans"):
        (zh,) = list_packing_slips(request_ids=request_ids(order), location_ids=None)
    with translation.override("en"):
        (en,) = list_packing_slips(request_ids=request_ids(order), location_ids=None)

    assert zh.lines[0].variant.startswith("黑色 / ")
    assert en.lines[0].variant.startswith("Black / ")
    assert zh.location_name == shop.warehouse.name_zh
    assert zh.state_label != en.state_label


def test_pick_lines_skip_requests_no_longer_to_pick(shop):
    live = request_ids(make_paid_order(shop, quantities=(1, 1)))[0]
    gone = request_ids(make_paid_order(shop, quantities=(1, 1)))[0]
    fulfilment.cancel_fulfilment_request(request_id=gone, actor=ACTOR)

    lines = pick_lines(list_packing_slips(request_ids=[live, gone], location_ids=None))

    assert {line.request_number for line in lines} == {
        s.number for s in list_packing_slips(request_ids=[live], location_ids=None)
    }


def test_list_printable_requests_leaves_out_refused_ones_in_one_query(
    shop, django_assert_num_queries
):
    order = make_paid_order(shop, method="ship")
    (live,) = request_ids(order)
    refused = fulfilment.create_fulfilment_request(
        location_id=shop.store.pk, reference=f"order {order.number}",
        lines=[(shop.skus[0].pk, 1, None)], owner_type="order", owner_id=order.number,
        actor=ACTOR,
    )  # fmt: skip
    fulfilment.reject_fulfilment_request(request_id=refused.pk, reason="damaged", actor=ACTOR)

    with django_assert_num_queries(1):
        refs = list_printable_requests(owner_type="order", owner_id=order.number, location_ids=None)

    assert [ref.id for ref in refs] == [live]
