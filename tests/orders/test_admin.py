"""The orders back office: list, page, actions, notes, the pick-up desk, store scoping."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from omnimall.core.roles import LOGISTICS, STORE_STAFF
from omnimall.orders.models import Order, OrderEvent
from tests.inventory.factories import make_location
from tests.orders.factories import (
    make_paid_order,
    make_ready_pickup,
    make_shipped_order,
    make_shop,
    store_clerk,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    """The back office's texts are asserted in English (the site's default is zh-hans)."""
    settings.LANGUAGE_CODE = "en"


CHANGELIST = "/admin/orders/order/"


def test_changelist_and_change_page_render(admin_client):
    order = make_ready_pickup()
    other = make_paid_order()

    listing = admin_client.get(CHANGELIST, {"q": f"{order.number[:6]} {order.number[6:]}"})
    page = admin_client.get(f"{CHANGELIST}{order.pk}/change/")

    assert listing.status_code == 200
    assert order.number[6:] in listing.content.decode()
    assert other.number[6:] not in listing.content.decode()
    assert page.status_code == 200
    body = page.content.decode()
    assert "ready_for_pickup" in body or "ready for pick-up" in body
    assert "Add note" in body
    assert 'name="_save"' not in body


def test_an_order_number_is_one_exact_lookup_not_a_scan_of_phones_and_emails(admin_client):
    order = make_paid_order()

    with CaptureQueriesContext(connection) as queries:
        listing = admin_client.get(CHANGELIST, {"q": order.number})

    assert order.number[6:] in listing.content.decode()
    table = connection.ops.quote_name(Order._meta.db_table)
    searches = [q["sql"] for q in queries.captured_queries if f"FROM {table}" in q["sql"]]
    assert searches
    assert not [sql for sql in searches if "LIKE" in sql or "UPPER" in sql], searches


def test_orders_are_found_by_the_phone_in_any_usual_form(admin_client):
    order = make_paid_order()
    national = order.phone

    found = [
        admin_client.get(CHANGELIST, {"q": typed}).content.decode()
        for typed in (
            national,
            f"+86{national}",
            f"+86 {national[:3]} {national[3:7]} {national[7:]}",
        )
    ]

    assert all(order.number[6:] in page for page in found)


def test_order_page_writes_the_address_as_on_a_parcel(admin_client):
    order = make_paid_order(method="ship")
    to = order.ship_to

    body = admin_client.get(f"{CHANGELIST}{order.pk}/change/").content.decode()

    assert f"{to['province']} {to['city']} {to['district']} {to['street']}" in body
    assert "&quot;province&quot;" not in body
    assert "Amount paid" in body
    assert "Paid at" in body


def test_staff_note_is_added_to_the_timeline(admin_client):
    order = make_paid_order()

    reply = admin_client.post(f"{CHANGELIST}{order.pk}/note/", {"text": "Called the shopper"})

    assert reply.status_code == 302
    note = OrderEvent.objects.get(order=order, kind="note")
    assert note.message == "Called the shopper"
    assert note.actor_label == "admin"


def test_cancel_action_asks_for_a_reason_then_cancels_with_refund(admin_client):
    order = make_paid_order()
    data = {"action": "cancel_with_refund", "_selected_action": [order.pk]}

    asked = admin_client.post(CHANGELIST, data)
    done = admin_client.post(CHANGELIST, {**data, "apply": "1", "reason": "out of stock"})

    assert asked.status_code == 200
    assert "Reason" in asked.content.decode()
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert order.amount_refunded == order.total


def test_action_buttons_belong_to_the_page_form_not_forms_nested_in_it(admin_client):
    """Browsers drop a <form> inside a <form>: the first action button then submitted
    the admin's change form (403). The buttons post elsewhere with ``formaction``."""
    order = make_paid_order()
    body = admin_client.get(f"{CHANGELIST}{order.pk}/change/").content.decode()
    start = body.index('id="order_form"')
    page_form = body[start : body.index("</form>", start)]

    assert "<form" not in page_form
    cancel = f'formaction="{CHANGELIST}{order.pk}/act/cancel_with_refund/"'
    assert cancel in page_form
    asked = admin_client.post(f"{CHANGELIST}{order.pk}/act/cancel_with_refund/")
    assert asked.status_code == 200
    assert "Reason" in asked.content.decode()


def test_mark_delivered_button_on_the_order_page(admin_client):
    order = make_shipped_order()

    reply = admin_client.post(f"{CHANGELIST}{order.pk}/act/mark_delivered/")

    assert reply.status_code == 302
    order.refresh_from_db()
    assert order.state == "delivered"


def test_mark_ready_action_puts_a_pickup_aside(admin_client, django_capture_on_commit_callbacks):
    order = make_paid_order(method="pickup")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            CHANGELIST, {"action": "mark_ready_for_pickup", "_selected_action": [order.pk]}
        )

    order.refresh_from_db()
    assert order.state == "ready_for_pickup"


def test_resend_last_email(admin_client):
    order = make_paid_order()

    admin_client.post(CHANGELIST, {"action": "resend_email", "_selected_action": [order.pk]})

    assert OrderEvent.objects.filter(order=order, kind="email", data__template="paid").count() == 2


def test_pickup_desk_finds_by_code_and_hands_over(admin_client, django_capture_on_commit_callbacks):
    order = make_ready_pickup()
    desk = reverse("admin:orders_pickup_desk")

    found = admin_client.get(desk, {"code": order.pickup_code})
    with django_capture_on_commit_callbacks(execute=True):
        handed = admin_client.post(desk, {"code": order.pickup_code, "hand_over": "1"})

    assert found.status_code == 200
    assert "Hand over" in found.content.decode()
    assert handed.status_code == 302
    order.refresh_from_db()
    assert order.state == "picked_up"


def test_store_staff_only_see_and_hand_over_at_their_stores():
    shop = make_shop()
    order = make_ready_pickup(shop)
    elsewhere = make_location("o-st-elsewhere", kind="store", offers_pickup=True)
    client, clerk = store_clerk(elsewhere)

    listing = client.get(CHANGELIST)
    desk = client.get(reverse("admin:orders_pickup_desk"), {"code": order.pickup_code})
    shop.store.staff.add(clerk)
    own_desk = client.get(reverse("admin:orders_pickup_desk"), {"code": order.pickup_code})

    assert listing.status_code == 200
    assert order.number[:6] not in listing.content.decode()
    assert "Hand over" not in desk.content.decode()
    assert "Hand over" in own_desk.content.decode()
    assert Order.objects.get(pk=order.pk).state == "ready_for_pickup"


def test_pickup_desk_puts_an_allocated_order_aside(
    admin_client, django_capture_on_commit_callbacks
):
    order = make_paid_order(method="pickup")
    desk = reverse("admin:orders_pickup_desk")

    shown = admin_client.get(desk, {"code": order.pickup_code})
    with django_capture_on_commit_callbacks(execute=True):
        put = admin_client.post(desk, {"code": order.pickup_code, "put_aside": "1"})

    assert "Put aside" in shown.content.decode()
    assert put.status_code == 302
    order.refresh_from_db()
    assert order.state == "ready_for_pickup"


def cells(html: str, name: str) -> list[str]:
    """The texts of an inline's read-only column."""
    return re.findall(rf'<td class="field-{name}">\s*<p>([^<]*)</p>', html)


@pytest.mark.parametrize("role", [STORE_STAFF, LOGISTICS])
def test_order_page_shows_lines_and_timeline_to_every_role_that_sees_the_order(role):
    shop = make_shop()
    order = make_paid_order(shop, method="pickup")
    user = get_user_model().objects.create_user(username="u", password="pw-123456!", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    shop.store.staff.add(user)
    client = Client()
    client.force_login(user)

    page = client.get(f"{CHANGELIST}{order.pk}/change/")

    html = page.content.decode()
    assert page.status_code == 200
    assert shop.skus[0].code in cells(html, "sku_code")  # the lines
    assert "paid" in cells(html, "state_to_label")  # the timeline
    # The pick-up code is the shopper's proof at the counter: its last two digits only.
    order.refresh_from_db()
    assert order.pickup_code not in html
    assert f"••••{order.pickup_code[-2:]}" in html


def test_order_timeline_names_states_as_people_read_them(admin_client):
    order = make_paid_order()

    html = admin_client.get(f"{CHANGELIST}{order.pk}/change/").content.decode()

    states = cells(html, "state_from_label") + cells(html, "state_to_label")
    assert "pending payment" in states
    assert "pending_payment" not in states
    assert "td.original p { display: none; }" in html  # no "<order id> state paid" captions


def action_buttons(html: str, order) -> set[str]:
    return set(re.findall(rf'formaction="{CHANGELIST}{order.pk}/act/(\w+)/"', html))


def test_order_page_offers_only_the_actions_that_fit_the_order(admin_client):
    shipped = make_shipped_order()
    pickup = make_paid_order(method="pickup")
    delivery = make_paid_order()

    shown = {
        order.state + "/" + order.delivery_method: action_buttons(
            admin_client.get(f"{CHANGELIST}{order.pk}/change/").content.decode(), order
        )
        for order in (shipped, pickup, delivery)
    }

    assert shown == {
        "shipped/ship": {"mark_delivered", "resend_email"},
        "allocated/pickup": {"cancel_with_refund", "mark_ready_for_pickup", "resend_email"},
        "allocated/ship": {"cancel_with_refund", "resend_email"},
    }


def test_order_actions_name_the_orders_and_refusals_show_no_ids_or_state_codes(admin_client):
    shipped = make_shipped_order()
    ready = make_ready_pickup()
    delivery = make_paid_order()

    delivered = admin_client.post(f"{CHANGELIST}{shipped.pk}/act/mark_delivered/", follow=True)
    refused = admin_client.post(
        CHANGELIST,
        {"action": "mark_delivered", "_selected_action": [ready.pk], "index": "0"},
        follow=True,
    )
    not_pickup = admin_client.post(
        CHANGELIST,
        {"action": "mark_ready_for_pickup", "_selected_action": [delivery.pk], "index": "0"},
        follow=True,
    )

    number = f"{shipped.number[:6]} {shipped.number[6:]}"
    assert [str(m) for m in delivered.context["messages"]] == [f"Order {number} marked delivered."]
    (refusal,) = [str(m) for m in refused.context["messages"]]
    assert refusal.startswith(f"{ready.number[:6]} {ready.number[6:]}: Only a shipped order")
    assert "state: ready for pick-up" in refusal
    assert "ready_for_pickup" not in refusal
    assert [str(m) for m in not_pickup.context["messages"]] == [
        f"{delivery.number[:6]} {delivery.number[6:]}: Only a pick-up order can be made ready."
    ]


def test_the_timeline_shows_the_services_fixed_texts_in_the_staff_language(admin_client):
    order = make_ready_pickup()  # placed, paid ("payment captured"), put aside at the store

    english = admin_client.get(f"{CHANGELIST}{order.pk}/change/").content.decode()
    chinese = admin_client.get(
        f"{CHANGELIST}{order.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()

    assert "payment captured" in english
    assert "已收款" in chinese
    assert "payment captured" not in chinese
    assert OrderEvent.objects.filter(order=order, message="payment captured").exists()  # stored
