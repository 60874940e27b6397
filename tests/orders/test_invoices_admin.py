"""Invoices (fapiao) in the back office: finance's list, recording an issue, the order page.

Real HTTP through the test client, as a staff user in the ``finance`` group (customer
service and store staff for what they may not do).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from omnimall.core import roles
from omnimall.core.models import AuditEntry, OutboxMessage
from omnimall.orders.models import InvoiceRequest, InvoiceState
from omnimall.orders.selectors import display_number
from tests.core.test_roles import perms_of
from tests.orders.factories import make_paid_order
from tests.orders.test_invoices_api import (
    COMPANY_ID,
    PDF,
    cancelled_with_invoice,
    requested,
    unpaid_with_invoice,
)

pytestmark = pytest.mark.django_db

LIST = "/admin/orders/invoicerequest/"


@pytest.fixture(autouse=True)
def _english(settings):
    """The back office's texts are asserted in English (the site's default is zh-hans)."""
    settings.LANGUAGE_CODE = "en"
    settings.OUTBOX_DELIVER_ON_COMMIT = False


def staff_client(role: str) -> Client:
    user = get_user_model().objects.create_user(role, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def finance() -> Client:
    return staff_client(roles.FINANCE)


def issue_url(invoice: InvoiceRequest) -> str:
    return f"{LIST}{invoice.pk}/issue/"


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_list_opens_on_the_invoices_to_issue_and_shows_all_on_request(finance):
    todo, unpaid, cancelled = requested(), unpaid_with_invoice(), cancelled_with_invoice()
    issued = requested()
    finance.post(issue_url(issued.invoice), {"invoice_number": "A1"}, follow=True)

    work = page_text(finance.get(LIST))
    everything = page_text(finance.get(LIST, {"state": "all", "order": "all"}))

    assert "Invoices to issue" in work
    assert 'href="?state=all&amp;order=all"' in work  # the way to see everything
    shown = [o for o in (todo, unpaid, cancelled, issued) if display_number(o.number) in work]
    assert shown == [todo]
    assert all(display_number(o.number) in everything for o in (todo, unpaid, cancelled, issued))
    assert "Invoices to issue" not in everything
    assert "Clear all filters" in work  # the defaults are filters, and say how to drop them
    assert f'href="/admin/orders/order/{todo.pk}/change/"' in work
    assert COMPANY_ID in work
    assert f"{todo.total} CNY" in work


def test_the_order_filter_finds_what_can_never_be_issued(finance):
    requested()
    cancelled = cancelled_with_invoice()

    closed = page_text(finance.get(LIST, {"order": "closed"}))
    junk = finance.get(LIST, {"order": "x\x00"})

    assert display_number(cancelled.number) in closed
    assert closed.count('class="field-order_link"') == 1
    assert junk.status_code == 200


def test_an_order_number_is_one_exact_lookup(finance):
    wanted, other = requested(), requested()

    with CaptureQueriesContext(connection) as queries:
        found = page_text(finance.get(LIST, {"q": display_number(wanted.number)}))

    assert display_number(wanted.number) in found
    assert display_number(other.number) not in found
    searches = [q["sql"] for q in queries.captured_queries if "orders_invoicerequest" in q["sql"]]
    assert searches
    assert not [sql for sql in searches if "LIKE" in sql], searches


def test_a_search_finds_an_issued_invoice_from_the_list_of_work(finance):
    issued = requested()
    finance.post(issue_url(issued.invoice), {"invoice_number": "A1"}, follow=True)

    found = page_text(finance.get(LIST, {"q": issued.number}))
    within = page_text(finance.get(LIST, {"q": issued.number, "state": "requested"}))

    assert display_number(issued.number) in found
    assert "Invoices to issue" not in found
    assert display_number(issued.number) not in within  # a chosen filter still applies


def test_taxpayer_id_and_title_are_searched(finance):
    company = requested()
    person = requested(kind="personal", title="李雷", tax_id="")

    by_id = page_text(finance.get(LIST, {"q": COMPANY_ID.lower()}))
    by_title = page_text(finance.get(LIST, {"q": "李雷"}))

    assert display_number(company.number) in by_id
    assert display_number(person.number) not in by_id
    assert display_number(person.number) in by_title
    assert display_number(company.number) not in by_title


def test_finance_records_the_issued_invoice_and_the_shopper_is_emailed_once(finance):
    order = requested()
    invoice = order.invoice
    page = page_text(finance.get(f"{LIST}{invoice.pk}/change/"))

    done = finance.post(issue_url(invoice), {"invoice_number": "26112700000042", "pdf_url": PDF})
    again = finance.post(
        issue_url(invoice), {"invoice_number": "26112700000042", "pdf_url": PDF}, follow=True
    )

    assert "Record the issued invoice" in page
    assert f"{display_number(order.number)} · 北风贸易有限公司" in page  # not row ids
    assert 'name="_save"' not in page  # otherwise read-only
    assert done.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.state, invoice.invoice_number, invoice.pdf_url) == (
        "issued",
        "26112700000042",
        PDF,
    )
    assert invoice.amount == order.total
    assert "was already recorded" in page_text(again)
    emails = OutboxMessage.objects.filter(kind="email", topic="order.invoice_issued")
    assert [e.payload["to"] for e in emails] == ["ap@northwind.cn"]
    assert AuditEntry.objects.get(action="order.invoice_issued").actor_label == roles.FINANCE
    issued_page = page_text(finance.get(f"{LIST}{invoice.pk}/change/"))
    assert "Record the issued invoice" not in issued_page
    assert PDF in issued_page


def test_a_refused_invoice_is_shown_on_the_form_never_a_500(finance):
    invoice = requested().invoice

    bad_link = finance.post(issue_url(invoice), {"invoice_number": "A1", "pdf_url": "ftp://x.cn/a"})
    blank = finance.post(issue_url(invoice), {"invoice_number": "  "})

    assert bad_link.status_code == blank.status_code == 200
    assert "An http(s) link to the invoice PDF" in page_text(bad_link)
    assert "errorlist" in page_text(blank)
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.REQUESTED


def test_an_unpaid_order_cannot_be_issued_and_the_page_says_why(finance):
    invoice = unpaid_with_invoice().invoice

    page = page_text(finance.get(f"{LIST}{invoice.pk}/change/"))
    refused = page_text(finance.post(issue_url(invoice), {"invoice_number": "A1"}))

    assert "Record the issued invoice" not in page
    assert "an invoice is issued only for a paid order" in page
    assert "This order cannot have an invoice" in refused
    assert "state: pending payment" in refused
    assert not OutboxMessage.objects.filter(kind="email", topic="order.invoice_issued").exists()


def test_another_number_after_the_issue_is_refused_on_the_form(finance):
    invoice = requested().invoice
    finance.post(issue_url(invoice), {"invoice_number": "A1"})

    refused = page_text(finance.post(issue_url(invoice), {"invoice_number": "B2"}))

    assert "already been issued" in refused
    invoice.refresh_from_db()
    assert invoice.invoice_number == "A1"


def test_nobody_adds_or_deletes_invoice_requests(finance):
    invoice = requested().invoice

    assert finance.get(f"{LIST}add/").status_code == 403
    assert finance.post(f"{LIST}{invoice.pk}/delete/", {"post": "yes"}).status_code == 403
    assert InvoiceRequest.objects.filter(pk=invoice.pk).exists()


def test_customer_service_sees_invoices_but_cannot_record_an_issue():
    invoice = requested().invoice
    cs = staff_client(roles.CUSTOMER_SERVICE)

    listing = cs.get(LIST)
    page = page_text(cs.get(f"{LIST}{invoice.pk}/change/"))
    refused = cs.post(issue_url(invoice), {"invoice_number": "A1"})

    assert listing.status_code == 200
    assert "Record the issued invoice" not in page
    assert refused.status_code == 403
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.REQUESTED


def test_store_staff_neither_see_nor_issue_invoices():
    invoice = requested().invoice
    store = staff_client(roles.STORE_STAFF)

    assert store.get(LIST).status_code == 403
    assert store.post(issue_url(invoice), {"invoice_number": "A1"}).status_code == 403
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.REQUESTED


def test_the_order_page_shows_its_invoice_read_only(finance):
    order = requested()
    finance.post(issue_url(order.invoice), {"invoice_number": "26112700000042", "pdf_url": PDF})
    bare = make_paid_order()

    page = page_text(finance.get(f"/admin/orders/order/{order.pk}/change/"))
    without = page_text(finance.get(f"/admin/orders/order/{bare.pk}/change/"))

    assert "Invoice (fapiao)" in page
    for shown in ("北风贸易有限公司", COMPANY_ID, "ap@northwind.cn", "26112700000042", PDF):
        assert shown in page
    assert f'href="{LIST}{order.invoice.pk}/change/"' in page
    assert 'name="invoice-0-title"' not in page  # nothing to edit
    assert "26112700000042" not in without
    logistics = staff_client(roles.LOGISTICS)  # no invoice permissions: part of the order
    assert "26112700000042" in page_text(logistics.get(f"/admin/orders/order/{order.pk}/change/"))


def test_the_finance_role_has_exactly_its_permissions_and_the_head_sees_invoices():
    assert perms_of(roles.FINANCE) >= {
        "orders.view_order",
        "orders.view_invoicerequest",
        "orders.change_invoicerequest",
        "payments.view_payment",
    }
    assert {p for p in perms_of(roles.FINANCE) if not p.startswith("payments.view_")} == {
        "orders.view_order",
        "orders.view_invoicerequest",
        "orders.change_invoicerequest",
        "orders.export_order",  # the orders' figures, for the books
        "pos.view_receipt",  # the stores' takings, reconciled against the payouts
        "pos.view_tillreturn",
    }
    head = perms_of(roles.HEAD_OF_ECOMMERCE)
    assert "orders.view_invoicerequest" in head
    assert "orders.change_invoicerequest" not in head


def test_finance_opens_orders_payments_and_the_store_credit_report(finance):
    assert finance.get("/admin/orders/order/").status_code == 200
    assert finance.get("/admin/payments/payment/").status_code == 200
    assert finance.get("/admin/orders/order/store-credit/").status_code == 200
    assert finance.get("/admin/orders/returnrequest/").status_code == 403
