"""Printed packing slips and pick lists in the back office, as store and warehouse staff
print them: what is on the paper, what never is, who may print what, and the cost."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from omnimall.core import roles
from omnimall.core.models import AuditEntry
from omnimall.inventory.admin import slips
from omnimall.inventory.models import FulfilmentRequest, FulfilmentState
from omnimall.inventory.services import fulfilment
from omnimall.orders.models import Order
from tests.orders.factories import ACTOR, make_paid_order, make_shop, request_ids, ship_all

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:inventory_fulfilmentrequest_changelist")
SLIPS = reverse("admin:inventory_fulfilmentrequest_packing_slips")
PICK_LIST = reverse("admin:inventory_fulfilmentrequest_pick_list")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"  # the site's default is zh-hans


def staff_in(role: str | None, username: str, *, stores=()):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    for store in stores:
        store.staff.add(user)
    return user


@pytest.fixture
def shop():
    return make_shop(units=20)


@pytest.fixture
def logistics(client):
    client.force_login(staff_in(roles.LOGISTICS, "lena"))
    return client


def slip_url(request_id: int) -> str:
    return reverse("admin:inventory_fulfilmentrequest_packing_slip", args=[request_id])


def ids(*request_ids: int) -> dict[str, str]:
    return {"ids": ",".join(map(str, request_ids))}


def the_request(order: Order) -> FulfilmentRequest:
    (request_id,) = request_ids(order)
    return FulfilmentRequest.objects.get(pk=request_id)


def slips_in(html: str) -> list[str]:
    return re.findall(r'<article class="sheet slip" id="slip-([^"]+)">', html)


# --- one slip -------------------------------------------------------------------------


def test_packing_slip_shows_lines_and_address_but_no_price_when_a_delivery_is_printed(
    logistics, shop
):
    order = make_paid_order(shop, method="ship", quantities=(1, 2))
    request = the_request(order)
    tee, cap = shop.skus

    response = logistics.get(slip_url(request.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"{order.number[:6]} {order.number[6:]}" in html
    assert request.number in html
    assert 'src="data:image/svg+xml;base64,' in html  # the order number's barcode
    assert f"{shop.warehouse.name_en} ({shop.warehouse.code})" in html
    assert "Li Lei 13800138000" in html
    assert "上海市 Shanghai 黄浦区 南京东路 1 号" in html
    for sku, quantity in ((tee, 1), (cap, 2)):
        row = re.search(rf'<td class="sku">{sku.code}</td>(.*?)</tr>', html, re.S)[1]
        assert sku.product.name_en in row
        assert f"Black / {sku.size}" in row
        assert f'<td class="num">{quantity}</td>' in row
        assert 'class="box"' in row
    assert '<td class="num total-units">3</td>' in html
    assert "59.90" not in html
    assert "¥" not in html
    assert "price" not in html.lower()


def test_packing_slip_of_a_pickup_masks_the_phone_and_never_shows_the_pickup_code(logistics, shop):
    order = make_paid_order(shop, method="pickup", quantities=(1, 1))
    Order.objects.filter(pk=order.pk).update(pickup_code="975319")  # easy to spot
    request = the_request(order)

    html = logistics.get(slip_url(request.pk)).content.decode()

    assert "Li Lei 138****8000" in html
    assert "13800138000" not in html
    assert f"Pick up at {shop.store.name_en}" in html
    assert "975319" not in html
    assert "pick-up code" not in html.lower()
    assert "南京东路" not in html  # a pick-up has no address to print


def test_packing_slip_names_products_in_chinese_when_the_staff_member_reads_chinese(
    logistics, shop
):
    order = make_paid_order(shop, method="ship", quantities=(1,))
    tee = shop.skus[0]

    html = logistics.get(
        slip_url(the_request(order).pk), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()

    assert tee.product.name_zh in html
    assert f"黑色 / {tee.size}" in html
    assert shop.warehouse.name_zh in html


def test_printing_a_slip_changes_no_request_and_is_on_the_audit_trail(logistics, shop):
    request = the_request(make_paid_order(shop))
    before = FulfilmentRequest.objects.values("state", "updated_at").get(pk=request.pk)

    logistics.get(slip_url(request.pk))

    assert FulfilmentRequest.objects.values("state", "updated_at").get(pk=request.pk) == before
    entry = AuditEntry.objects.get(action="fulfilment.slip_printed")
    assert entry.actor_label == "lena"
    assert entry.subject_id == str(request.pk)
    assert entry.subject_repr == request.number
    assert entry.changes == {"slips_printed_together": 1}


def test_packing_slip_of_a_cancelled_request_says_not_to_pack_it(logistics, shop):
    request = the_request(make_paid_order(shop))
    fulfilment.cancel_fulfilment_request(request_id=request.pk, actor=ACTOR, reason="test")

    html = logistics.get(slip_url(request.pk)).content.decode()

    assert "This request is cancelled: do not pack it." in html


def test_packing_slip_page_is_a_print_page_with_a_print_button(logistics, shop):
    request = the_request(make_paid_order(shop))

    html = logistics.get(slip_url(request.pk)).content.decode()
    css = Path(finders.find("inventory/print.css")).read_text(encoding="utf-8")
    script = Path(finders.find("inventory/print.js")).read_text(encoding="utf-8")

    assert 'id="header"' not in html  # none of the admin's frame
    assert 'class="toolbar no-print"' in html
    assert "data-print" in html
    assert "window.print()" in script
    assert re.search(r"@page\s*{\s*size: A4 portrait;", css)
    assert re.search(r"\.no-print { display: none !important; }", css)
    assert "page-break-after: always;" in css


def test_request_page_links_to_its_packing_slip(logistics, shop):
    request = the_request(make_paid_order(shop))

    html = logistics.get(
        reverse("admin:inventory_fulfilmentrequest_change", args=[request.pk])
    ).content.decode()

    assert f'href="{slip_url(request.pk)}">Print packing slip</a>' in html


def test_order_page_links_to_the_slip_of_each_live_request(logistics, shop):
    order = make_paid_order(shop, method="ship")
    warehouse = the_request(order)
    # Part of the order also asked of the store, which then refused it.
    refused = fulfilment.create_fulfilment_request(
        location_id=shop.store.pk, reference=f"order {order.number}",
        lines=[(shop.skus[0].pk, 1, None)], owner_type="order", owner_id=order.number,
        actor=ACTOR,
    )  # fmt: skip
    fulfilment.reject_fulfilment_request(request_id=refused.pk, reason="damaged", actor=ACTOR)

    html = logistics.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert f'<a href="{slip_url(warehouse.pk)}">Packing slip {warehouse.number}</a>' in html
    assert slip_url(refused.pk) not in html


def test_order_page_offers_no_slip_to_staff_who_may_not_view_requests(client, shop):
    order = make_paid_order(shop)
    client.force_login(staff_in(roles.CUSTOMER_SERVICE, "cora"))

    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    printed = client.get(slip_url(the_request(order).pk))

    assert "packing-slip" not in html
    assert printed.status_code == 403


# --- batches --------------------------------------------------------------------------


def test_packing_slips_print_one_slip_a_page_for_the_selected_requests(logistics, shop):
    orders = [make_paid_order(shop, method=m) for m in ("ship", "pickup", "ship")]
    chosen = [the_request(o) for o in orders]

    response = logistics.get(SLIPS, ids(*(r.pk for r in chosen)))

    assert response.status_code == 200
    assert slips_in(response.content.decode()) == [r.number for r in chosen]
    assert AuditEntry.objects.filter(action="fulfilment.slip_printed").count() == 3


def test_packing_slips_ignore_what_is_not_a_request_id_in_the_address(logistics, shop):
    request = the_request(make_paid_order(shop))

    printed = logistics.get(SLIPS, {"ids": f"x,²,{'9' * 30},-1, {request.pk} ,"})
    nothing = logistics.get(SLIPS, {"ids": f"²,{'9' * 30}"})
    no_ids = logistics.get(PICK_LIST)

    assert slips_in(printed.content.decode()) == [request.number]
    assert nothing.status_code == 404
    assert no_ids.status_code == 404


def test_packing_slips_cost_the_same_queries_for_one_request_or_many(logistics, shop):
    orders = [make_paid_order(shop, method=m) for m in ("ship", "pickup") * 4]
    chosen = [the_request(o).pk for o in orders]

    with CaptureQueriesContext(connection) as one:
        logistics.get(SLIPS, ids(chosen[0]))
    with CaptureQueriesContext(connection) as eight:
        response = logistics.get(SLIPS, ids(*chosen))

    assert len(slips_in(response.content.decode())) == 8
    assert len(eight.captured_queries) == len(one.captured_queries)


def test_packing_slips_for_many_requests_take_a_handful_of_queries(
    logistics, shop, django_assert_max_num_queries
):
    orders = [make_paid_order(shop, method=m) for m in ("ship", "pickup") * 5]
    chosen = [the_request(o).pk for o in orders]

    # Session, user, permissions (2), the user's roles, the requests, their lines, and one
    # INSERT of the audit entries (with the savepoint the test's transaction adds).
    with django_assert_max_num_queries(10):
        response = logistics.get(SLIPS, ids(*chosen))

    assert len(slips_in(response.content.decode())) == 10


def test_pick_list_sums_the_selected_requests_per_sku_in_sku_order(logistics, shop):
    small, big = shop.skus  # sizes S and M: "…-M-BLACK" sorts first
    first = the_request(make_paid_order(shop, method="ship", quantities=(1, 2)))
    second = the_request(make_paid_order(shop, method="ship", quantities=(3, 1)))

    html = logistics.get(PICK_LIST, ids(first.pk, second.pk)).content.decode()

    rows = re.findall(
        r'<td class="sku">([^<]+)</td>.*?<td class="num">(\d+)</td>\s*<td class="requests">([^<]*)',
        html,
        re.S,
    )
    assert rows == [
        (big.code, "3", f"{first.number} × 2, {second.number} × 1"),
        (small.code, "4", f"{first.number} × 1, {second.number} × 3"),
    ]
    assert '<td class="num total-units">7</td>' in html
    assert small.product.name_en in html
    assert f"{shop.warehouse.name_en} ({shop.warehouse.code})" in html
    assert not AuditEntry.objects.filter(action="fulfilment.slip_printed").exists()


def test_pick_list_leaves_out_requests_already_shipped_and_says_so(logistics, shop):
    open_request = the_request(make_paid_order(shop, quantities=(1, 1)))
    shipped = ship_all(make_paid_order(shop, quantities=(5, 5)))
    shipped_request = FulfilmentRequest.objects.get(pk=request_ids(shipped)[0])

    html = logistics.get(PICK_LIST, ids(open_request.pk, shipped_request.pk)).content.decode()

    assert '<td class="num total-units">2</td>' in html
    assert f"<li>{shipped_request.number}: shipped</li>" in html
    assert shipped_request.state == FulfilmentState.SHIPPED


@pytest.mark.parametrize(("action", "page"), [
    ("print_packing_slips", SLIPS), ("print_pick_list", PICK_LIST),
])  # fmt: skip
def test_list_actions_lead_to_the_printable_page_of_the_selected_requests(
    logistics, shop, action, page
):
    chosen = sorted(the_request(make_paid_order(shop)).pk for _ in range(2))

    response = logistics.post(
        CHANGELIST, {"action": action, "_selected_action": [str(pk) for pk in chosen]}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{page}?ids={chosen[0]},{chosen[1]}"
    assert logistics.get(response["Location"]).status_code == 200


def test_list_action_refuses_more_requests_than_a_printer_should_take(logistics, shop, monkeypatch):
    monkeypatch.setattr(slips, "MAX_PRINT", 2)
    for _ in range(3):
        make_paid_order(shop)

    response = logistics.post(
        CHANGELIST,
        {"action": "print_packing_slips", "select_across": "1", "index": "0",
         "_selected_action": ["0"]},
        follow=True,
    )  # fmt: skip

    assert response.redirect_chain[-1][0].startswith(CHANGELIST)
    assert "Select at most 2 requests to print at once." in response.content.decode()
    assert not AuditEntry.objects.filter(action="fulfilment.slip_printed").exists()


def test_list_offers_the_print_actions_to_store_staff(client, shop):
    client.force_login(staff_in(roles.STORE_STAFF, "sam", stores=[shop.store]))

    html = client.get(CHANGELIST).content.decode()

    assert '<option value="print_packing_slips">Print packing slips</option>' in html
    assert '<option value="print_pick_list">Print pick list</option>' in html


# --- who may print what -----------------------------------------------------------------


def test_store_staff_cannot_print_a_request_of_another_location(client, shop):
    own = the_request(make_paid_order(shop, method="pickup"))
    elsewhere = the_request(make_paid_order(shop, method="ship"))  # the warehouse's
    client.force_login(staff_in(roles.STORE_STAFF, "sam", stores=[shop.store]))

    one = client.get(slip_url(elsewhere.pk))
    batch = client.get(SLIPS, ids(own.pk, elsewhere.pk)).content.decode()
    only_elsewhere = client.get(SLIPS, ids(elsewhere.pk))
    pick = client.get(PICK_LIST, ids(own.pk, elsewhere.pk)).content.decode()
    picked_elsewhere = client.get(PICK_LIST, ids(elsewhere.pk))

    assert one.status_code == 404
    assert slips_in(batch) == [own.number]
    assert only_elsewhere.status_code == 404
    assert elsewhere.number not in pick
    assert own.number in pick
    assert picked_elsewhere.status_code == 404
    printed = AuditEntry.objects.filter(action="fulfilment.slip_printed")
    assert list(printed.values_list("subject_id", flat=True)) == [str(own.pk)]


def test_store_staff_action_prints_only_their_own_requests_whatever_is_posted(client, shop):
    own = the_request(make_paid_order(shop, method="pickup"))
    elsewhere = the_request(make_paid_order(shop, method="ship"))
    client.force_login(staff_in(roles.STORE_STAFF, "sam", stores=[shop.store]))

    response = client.post(
        CHANGELIST,
        {"action": "print_packing_slips", "_selected_action": [str(own.pk), str(elsewhere.pk)]},
    )

    assert response.status_code == 302
    assert response["Location"].endswith(f"?ids={own.pk}")


def test_order_page_links_store_staff_only_to_their_own_requests(client, shop):
    order = make_paid_order(shop, method="pickup")
    client.force_login(staff_in(roles.STORE_STAFF, "sam", stores=[shop.store]))
    other_store = make_shop().store
    stranger = staff_in(roles.STORE_STAFF, "stan", stores=[other_store])

    own_page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    client.force_login(stranger)
    strangers_slip = client.get(slip_url(the_request(order).pk))

    assert slip_url(the_request(order).pk) in own_page
    assert strangers_slip.status_code == 404


@pytest.mark.parametrize("url", ["slip", SLIPS, PICK_LIST])
def test_printing_pages_send_anonymous_and_non_staff_visitors_to_sign_in(client, shop, url):
    request = the_request(make_paid_order(shop))
    url = slip_url(request.pk) if url == "slip" else url
    query = ids(request.pk)

    anonymous = client.get(url, query)
    client.force_login(get_user_model().objects.create_user("shopper", password="pw"))
    shopper = client.get(url, query)

    for response in (anonymous, shopper):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert not AuditEntry.objects.filter(action="fulfilment.slip_printed").exists()


@pytest.mark.parametrize("url", ["slip", SLIPS, PICK_LIST])
def test_printing_pages_refuse_staff_who_may_not_view_requests(client, shop, url):
    request = the_request(make_paid_order(shop))
    url = slip_url(request.pk) if url == "slip" else url
    client.force_login(staff_in(roles.FINANCE, "fay"))

    response = client.get(url, ids(request.pk))

    assert response.status_code == 403
