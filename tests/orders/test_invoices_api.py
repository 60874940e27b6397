"""The invoices (fapiao) integration API: an ERP lists the work and records issued invoices.

Real HTTP through the test client with an API key (scope ``invoices``). ``requested`` and
``with_invoice`` are shared with the back-office tests.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.test import Client

from omnimall.core import api_keys, clock
from omnimall.core.actors import Actor
from omnimall.core.models import AuditEntry, OutboxMessage, WebhookSubscription
from omnimall.orders.models import InvoiceRequest, InvoiceState, Order
from omnimall.orders.selectors.invoices import PAGE_SIZE
from omnimall.orders.services import cancellation, invoices, refunds
from tests.orders.factories import make_paid_order, make_shop, pay, place
from tests.orders.test_refunds import paid_order

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices"
SHOPPER = Actor(kind="anonymous", label="shopper")
STAFF = Actor.system("invoice-tests")
COMPANY_ID = "91110000600037341L"  # a valid Unified Social Credit Code
PDF = "https://invoices.example.cn/26112700000042.pdf"


def with_invoice(order: Order, **details: str) -> Order:
    """``order`` with a company invoice requested for it."""
    values = {"kind": "company", "title": "北风贸易有限公司", "tax_id": COMPANY_ID,
              "email": "ap@northwind.cn", **details}  # fmt: skip
    invoices.request_invoice(
        order_id=order.pk, details=invoices.clean_invoice(**values), actor=SHOPPER
    )
    return order


def requested(**details: str) -> Order:
    """A paid order with a company invoice requested: finance's work."""
    return with_invoice(make_paid_order(), **details)


def unpaid_with_invoice() -> Order:
    return with_invoice(Order.objects.get(pk=place(make_shop(), quantities=(1,)).order_id))


def cancelled_with_invoice() -> Order:
    order = requested()
    cancellation.cancel_order(
        order_id=order.pk, actor=STAFF, reason="out of stock", by_shopper=False
    )
    return order


def token(*scopes: str) -> str:
    return api_keys.create_api_key(name="erp", scopes=list(scopes), actor=STAFF).token


@pytest.fixture
def erp():
    return Client(HTTP_X_API_KEY=token("invoices"))


def post(client: Client, number: str, body: object):
    return client.post(f"{URL}/{number}", json.dumps(body), content_type="application/json")


def test_the_work_list_holds_only_requests_that_may_be_issued_oldest_first(erp):
    first, second = requested(), requested(kind="personal", title="李雷", tax_id="")
    unpaid, cancelled = unpaid_with_invoice(), cancelled_with_invoice()
    make_paid_order()  # no invoice asked for

    body = erp.get(URL).json()

    assert [row["order_number"] for row in body["results"]] == [first.number, second.number]
    assert (body["page"], body["pages"], body["total"]) == (1, 1, 2)
    assert body["results"][0] == {
        "order_number": first.number,
        "order_state": first.state,
        "kind": "company",
        "title": "北风贸易有限公司",
        "tax_id": COMPANY_ID,
        "email": "ap@northwind.cn",
        "amount": str(first.total),
        "currency": "CNY",
        "requested_at": body["results"][0]["requested_at"],
        "state": "requested",
        "invoice_number": "",
        "pdf_url": "",
        "issued_at": None,
    }
    assert body["results"][1]["tax_id"] == ""
    listed = {row["order_number"] for row in body["results"]}
    assert not listed & {unpaid.number, cancelled.number}


def test_a_page_past_the_last_is_empty_and_bad_queries_are_422(erp):
    requested()

    past = erp.get(URL, {"page": 2}).json()
    bad_state = erp.get(URL, {"state": "cancelled"})
    bad_page = erp.get(URL, {"page": 0})

    assert (past["results"], past["page"], past["total"]) == ([], 2, 1)
    assert bad_state.status_code == bad_page.status_code == 422
    assert bad_state.json()["error"]["code"] == "validation_failed"
    assert PAGE_SIZE == 50


def test_issuing_records_the_invoice_emails_the_shopper_once_and_tells_integrations(erp, settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    WebhookSubscription.objects.create(
        name="erp", url="https://erp.example.com/hooks", secret="s3cret", topics=["*"]
    )
    order = requested()
    body = {"invoice_number": "26112700000042", "pdf_url": PDF}

    # A minute ago, as the tax system in Beijing writes it.
    beijing = datetime.timezone(datetime.timedelta(hours=8))
    at = (clock.now() - datetime.timedelta(minutes=1)).astimezone(beijing).replace(microsecond=0)
    issued = post(erp, order.number, {**body, "issued_at": at.isoformat()})
    retried = post(erp, order.number, body)
    listed = erp.get(URL, {"state": "issued"}).json()

    assert issued.status_code == retried.status_code == 200
    assert issued.json() == retried.json()
    assert issued.json()["state"] == "issued"
    assert issued.json()["amount"] == str(order.total)
    utc = at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert issued.json()["issued_at"].startswith(utc)  # in UTC
    assert [row["invoice_number"] for row in listed["results"]] == ["26112700000042"]
    assert erp.get(URL).json()["results"] == []  # no longer work to do
    emails = OutboxMessage.objects.filter(kind="email", topic="order.invoice_issued")
    assert [e.payload["to"] for e in emails] == ["ap@northwind.cn"]
    hook = OutboxMessage.objects.get(kind="webhook", topic="order.invoice_issued")
    assert hook.payload["data"]["invoice_number"] == "26112700000042"
    audit = AuditEntry.objects.get(action="order.invoice_issued")
    assert audit.actor_kind == "api_key"
    assert audit.actor_label == "api-key:erp"


def test_another_number_for_an_issued_invoice_is_a_conflict(erp):
    order = requested()
    post(erp, order.number, {"invoice_number": "A1"})

    response = post(erp, order.number, {"invoice_number": "B2"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invoice_issued"
    assert InvoiceRequest.objects.get(order=order).invoice_number == "A1"


def test_the_amount_is_what_was_paid_less_what_was_refunded(erp):
    from tests.catalog.factories import make_category, make_product

    product = make_product(category=make_category("tops"), variants=(("M", "black", "100.00"),))
    order = with_invoice(paid_order([(product.skus.get(), 2, "100.00")]))
    refunds.refund_order(order_id=order.pk, amount=Decimal("30.00"), reason="late", actor=STAFF)

    before = erp.get(URL).json()["results"][0]["amount"]
    after = post(erp, order.number, {"invoice_number": "A1"}).json()["amount"]

    assert before == after == "170.00"


@pytest.mark.parametrize(
    ("make", "number", "status", "code"),
    [
        (None, "999999999999", 404, "unknown_order"),
        (make_paid_order, None, 404, "invoice_not_requested"),
        (unpaid_with_invoice, None, 409, "invoice_not_allowed"),
        (cancelled_with_invoice, None, 409, "invoice_not_allowed"),
    ],
)
def test_refusals_name_their_code(erp, make, number, status, code):
    order = make() if make else None

    response = post(erp, number or order.number, {"invoice_number": "A1", "pdf_url": PDF})

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert not InvoiceRequest.objects.filter(state=InvoiceState.ISSUED).exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"invoice_number": "A1", "pdf_url": "ftp://invoices.example.cn/a.pdf"}, "invalid_invoice"),
        ({"invoice_number": "   "}, "invalid_invoice"),
        ({"invoice_number": "A" * 41}, "invalid_invoice"),
        ({"invoice_number": "A1", "pdf_link": PDF}, "validation_failed"),  # a misspelt field
        ({"invoice_number": "A\x071"}, "validation_failed"),  # a control character
        ({"invoice_number": "A1", "pdf_url": "https://x.cn/" + "a" * 500}, "validation_failed"),
        ({"invoice_number": "A1", "issued_at": "2026-11-27T10:30:00"}, "validation_failed"),
        ({"invoice_number": "A1", "issued_at": 1795000000}, "validation_failed"),  # a number
    ],
)
def test_a_bad_body_is_422_and_changes_nothing(erp, body, code):
    order = requested()

    response = post(erp, order.number, body)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    assert InvoiceRequest.objects.get(order=order).state == InvoiceState.REQUESTED


def test_a_nul_is_refused_with_the_body(erp):
    order = requested()

    response = post(erp, order.number, {"invoice_number": "A\x001"})

    assert response.status_code == 400  # PostgreSQL stores no NUL: every body refuses one
    assert InvoiceRequest.objects.get(order=order).state == InvoiceState.REQUESTED


def test_invalid_invoice_names_each_bad_field(erp):
    order = requested()

    response = post(erp, order.number, {"invoice_number": "", "pdf_url": "not a link"})

    assert set(response.json()["error"]["details"]["errors"]) == {"invoice_number", "pdf_url"}


def test_a_body_that_is_not_a_json_object_is_400(erp):
    order = requested()

    response = post(erp, order.number, ["A1"])

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_a_key_without_the_invoices_scope_is_403_and_no_key_is_401():
    order = requested()
    wms = Client(HTTP_X_API_KEY=token("wms"))

    listing = wms.get(URL)
    issuing = post(wms, order.number, {"invoice_number": "A1"})
    anonymous = Client().get(URL)

    assert listing.status_code == issuing.status_code == 403
    assert issuing.json()["error"]["details"]["required_scopes"] == ["invoices"]
    assert anonymous.status_code == 401
    assert InvoiceRequest.objects.get(order=order).state == InvoiceState.REQUESTED


def test_the_list_reads_a_page_in_two_queries(erp, django_assert_num_queries):
    for _ in range(3):
        requested()

    with django_assert_num_queries(4):  # the key, its last use, the count, the page
        body = erp.get(URL).json()

    assert body["total"] == 3


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "1970-01-01T00:00:00+00:00"])
def test_an_issue_date_from_before_the_order_is_422_not_a_500(when):
    placed = place(make_shop())
    pay(placed.order_id)
    invoices.request_invoice(
        order_id=placed.order_id,
        details=invoices.clean_invoice(kind="personal", title="Li", tax_id="", email="l@x.cn"),
        actor=Actor.system("test"),
    )

    refused = Client().generic(
        "POST",
        f"/api/v1/invoices/{placed.number}",
        json.dumps({"invoice_number": "A1", "issued_at": when}),
        content_type="application/json",
        HTTP_X_API_KEY=api_keys.create_api_key(
            name="erp-dates", scopes=["invoices"], actor=Actor.system("test")
        ).token,
    )

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_invoice"
