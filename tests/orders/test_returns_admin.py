"""The returns back office: the list and page, and each step through its form.

The shop's admin registers ``ReturnRequestAdmin`` (``orders.admin``); this module's own
admin site registers the same class so the pages are tested on their own.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import path, reverse

from omnimall import urls as shop_urls
from omnimall.core.models import AuditEntry
from omnimall.core.roles import STORE_STAFF, sync_roles
from omnimall.inventory.models import MovementKind, StockMovement
from omnimall.orders import domain
from omnimall.orders.admin.returns import ReturnRequestAdmin
from omnimall.orders.models import ReturnRequest, ReturnState
from omnimall.orders.services import returns
from tests.inventory.factories import make_location, make_skus
from tests.orders.test_refunds import STAFF, paid_order

site = admin.AdminSite(name="admin")
site.register(ReturnRequest, ReturnRequestAdmin)
urlpatterns = [path("admin/", site.urls), *shop_urls.urlpatterns]

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def _no_delivery(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def store(db):
    return make_location("sh-jingan", kind="store", city="Shanghai")


@pytest.fixture
def request_row(store):
    (sku,) = make_skus()
    order = paid_order([(sku, 2, "50.00")], credited_store=store, credit_reason="referral")
    line = order.lines.get()
    return returns.request_return(
        order_id=order.pk, lines=[(line.pk, 2)], reason="Too small", actor=STAFF
    )


@pytest.fixture
def boss(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "x" * 12)
    client.force_login(user)
    return client


def _step(request_row: ReturnRequest, step: str) -> str:
    return reverse("admin:orders_returnrequest_step", args=[request_row.pk, step])


def test_return_pages_list_and_show_the_next_step(boss, request_row):
    listing = boss.get(reverse("admin:orders_returnrequest_changelist"))
    page = boss.get(reverse("admin:orders_returnrequest_change", args=[request_row.pk]))

    assert listing.status_code == 200
    assert request_row.number in listing.content.decode()
    assert page.status_code == 200
    body = page.content.decode()
    assert _step(request_row, "approve") in body
    assert _step(request_row, "refund") not in body
    assert "Too small" in body


def test_return_walks_approve_receive_refund_through_the_forms(boss, request_row, store):
    assert boss.post(_step(request_row, "approve"), {"note": "OK"}).status_code == 302
    form = boss.get(_step(request_row, "receive"))
    assert store.code in form.content.decode()
    assert boss.post(_step(request_row, "receive"), {"location": store.pk}).status_code == 302
    refund_form = boss.get(_step(request_row, "refund"))
    assert 'value="100.00"' in refund_form.content.decode()

    reply = boss.post(_step(request_row, "refund"), {"amount": "100.00"})

    assert reply.status_code == 302
    request_row.refresh_from_db()
    order = request_row.order
    order.refresh_from_db()
    assert request_row.state == ReturnState.REFUNDED
    assert request_row.refund_amount == Decimal("100.00")
    assert order.state == domain.RETURNED
    assert StockMovement.objects.filter(
        reference=request_row.number, kind=MovementKind.RETURN, quantity=2
    ).exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"return.approved", "return.received", "return.refunded", "order.refunded"} <= actions


def test_reject_without_reason_shows_the_form_again(boss, request_row):
    reply = boss.post(_step(request_row, "reject"), {"reason": ""})

    assert reply.status_code == 200
    request_row.refresh_from_db()
    assert request_row.state == ReturnState.REQUESTED


def test_a_refused_step_shows_the_service_error_not_a_500(boss, request_row, store):
    returns.approve_return(return_id=request_row.pk, actor=STAFF)
    returns.receive_return(return_id=request_row.pk, location_id=store.pk, actor=STAFF)

    reply = boss.post(_step(request_row, "refund"), {"amount": "999.00"})

    assert reply.status_code == 200
    assert "more than what was paid" in reply.content.decode()
    request_row.refresh_from_db()
    assert request_row.state == ReturnState.RECEIVED


def test_store_staff_of_another_store_do_not_see_the_return(client, request_row):
    sync_roles()
    clerk = get_user_model().objects.create_user("clerk", password="x" * 12, is_staff=True)
    clerk.groups.add(Group.objects.get(name=STORE_STAFF))
    make_location("bj-sanlitun", kind="store", city="北京").staff.add(clerk)
    client.force_login(clerk)

    listing = client.get(reverse("admin:orders_returnrequest_changelist"))
    step = client.get(_step(request_row, "approve"))

    assert listing.status_code == 200
    assert request_row.number not in listing.content.decode()
    assert step.status_code == 404


def test_store_staff_of_the_store_see_the_returned_lines(client, request_row, store):
    sync_roles()
    clerk = get_user_model().objects.create_user("clerk", password="x" * 12, is_staff=True)
    clerk.groups.add(Group.objects.get(name=STORE_STAFF))
    store.staff.add(clerk)
    client.force_login(clerk)
    line = request_row.lines.select_related("order_line").get()

    page = client.get(
        reverse("admin:orders_returnrequest_change", args=[request_row.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(rf'<td class="field-sku_code">\s*<p>{line.order_line.sku_code}</p>', html)
    assert "td.original p { display: none; }" in html  # no "2 of <line id>" captions
    assert "State last changed:" in html
    assert "Updated:" not in html  # said nothing of what was updated: a step (state)
