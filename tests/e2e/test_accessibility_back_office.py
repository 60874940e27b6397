"""Accessibility of the back office and of the shop's emails, checked by axe-core.

The same audit as the shopper's pages (``tests/e2e/axe.py``: axe-core's WCAG 2.0 and 2.1
A and AA rules in Chromium; a serious or critical violation fails) on what staff use,
signed in as staff, in both languages, at a desktop width (the pick-up desk at a phone's
too: it is used at the counter): the sign-in page with its error, the home page (work
waiting, sales chart), the order list, an order's page (timeline, staff note, invoice),
the pick-up desk (empty, and with an order found by its code), a return's page and its
approve and reject pages (the latter with its error), an order note, an order's new
delivery address and a new brand with their errors, fulfilment requests, stock levels,
members and a member's 360 page, the outbox's dead letters, the store-credit and
cancellations reports and the invoices to issue.

Django's own header and navigation sidebar are the same on every page: they are audited
on the home page and the order list, and left out elsewhere.

The emails (every order email and the password reset, in both languages) are rendered as
the shop sends them and audited as pages of their own, at both widths: colour contrast,
the document's language and title, images' text alternatives.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from omnimall.core.actors import Actor
from omnimall.core.models import OutboxMessage
from omnimall.members.services.identity import add_member_note, enrol_member
from omnimall.orders.services import messages, pickup, returns
from tests.core.test_outbox_admin import dead_letter
from tests.e2e.axe import Audit, page_in
from tests.e2e.shoppers import make_shopper
from tests.members.test_points_factories import give_points
from tests.orders.factories import make_paid_order, make_ready_pickup
from tests.orders.test_email_html import EXTRA
from tests.orders.test_invoices_api import with_invoice

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("sqlite_pass_only")]

STAFF = Actor.system("a11y")
BOSS, BOSS_PASSWORD = "boss", "ledger-lantern-2026"
EMAIL, PASSWORD = "mei@example.com", "quiet-harbour-1987"
# The same on every back-office page: audited on the home page and the order list.
HEADER_AND_SIDEBAR = ("#header", "#nav-sidebar")
# Django's admin shows form errors in an "errornote" and in lists of errors per field.
ERRORS = ".errornote, .errorlist"
LANGUAGES = [("en", "en-US"), ("zh-hans", "zh-CN")]


@pytest.fixture
def back_office(settings, live_server, stocked):
    """A day's work: an order to ship with a staff note and an invoice to issue, one
    waiting at the store, one picked up and asked back, a member with points and a note,
    and a message the outbox gave up on."""
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    get_user_model().objects.create_superuser(BOSS, "boss@example.com", BOSS_PASSWORD)
    shopper = make_shopper(EMAIL, PASSWORD, first_name="Lin Mei")
    member = enrol_member(phone="+8613800138000", actor=STAFF, name="Lin Mei", user_id=shopper.pk)
    give_points(member, 1200, document="welcome", actor=STAFF)
    add_member_note(member_id=member.pk, text="Prefers to pick up on Saturdays.", actor=STAFF)

    to_ship = with_invoice(make_paid_order(stocked, user=shopper))
    messages.add_staff_note(order_id=to_ship.pk, text="Gift wrap, please.", actor=STAFF)
    ready = make_ready_pickup(stocked, quantities=(1,))
    picked_up = make_ready_pickup(stocked, user=shopper, quantities=(1, 1))
    pickup.hand_over(store_id=stocked.store.pk, code=picked_up.pickup_code, actor=STAFF)
    line = picked_up.lines.order_by("pk").first()
    asked_back = returns.request_return(
        order_id=picked_up.pk, lines=[(line.pk, 1)], reason="Too small", actor=STAFF
    )
    dead_letter()
    return {"order": to_ship, "ready": ready, "return": asked_back, "member": member}


def _sign_in(audit: Audit) -> None:
    page = audit.page
    audit.visit("/admin/login/", None)
    page.fill("#id_username", BOSS)
    page.fill("#id_password", "not the password")
    audit.submit("#login-form [type=submit]", "sign-in with its error", shows=ERRORS)
    page.fill("#id_password", BOSS_PASSWORD)
    with page.expect_navigation():
        page.locator("#login-form [type=submit]").click()
    audit.settle()


def _walk_through_orders(audit: Audit, data) -> None:
    page = audit.page
    order, asked_back = data["order"], data["return"]
    audit.visit("/admin/orders/order/", "order list", whole=True)
    audit.visit(f"/admin/orders/order/{order.pk}/change/", "an order with its timeline and note")
    audit.visit(f"/admin/orders/order/{order.pk}/note/", None)
    audit.submit("#content-main form [type=submit]", "order note with its error", shows=ERRORS)
    audit.visit(f"/admin/orders/order/{order.pk}/address/", None)
    page.fill("#id_phone", "12")
    audit.submit(
        "#content-main form [type=submit]", "delivery address with its error", shows=ERRORS
    )

    audit.visit("/admin/orders/order/pickup-desk/", "pick-up desk", whole=True)
    page.fill("#id_code", data["ready"].pickup_code)
    with page.expect_navigation():
        page.locator("#content-main form [type=submit]").first.click()
    audit.settle()
    assert page.locator("[name=hand_over]").count(), "the pick-up desk found no order"
    audit.check("pick-up desk, an order found", ("desktop", "phone"))

    returns_url = f"/admin/orders/returnrequest/{asked_back.pk}"
    audit.visit(f"{returns_url}/change/", "a return")
    audit.visit(f"{returns_url}/steps/approve/", "approving a return")
    audit.visit(f"{returns_url}/steps/reject/", None)
    audit.submit("#content-main form [type=submit]", "rejecting a return, its error", shows=ERRORS)
    audit.visit("/admin/orders/order/store-credit/", "store-credit report")
    audit.visit("/admin/orders/order/cancellations/", "cancellations report")
    audit.visit("/admin/orders/invoicerequest/", "invoices to issue")


def _walk_through_the_rest(audit: Audit, data) -> None:
    audit.visit("/admin/inventory/fulfilmentrequest/", "fulfilment requests")
    audit.visit("/admin/inventory/stocklevel/", "stock levels")
    audit.visit("/admin/members/member/", "members")
    audit.visit(f"/admin/members/member/{data['member'].pk}/change/", "member 360")
    audit.visit("/admin/core/outboxmessage/", "outbox: pending and dead letters")
    audit.visit("/admin/catalog/brand/add/", None)
    audit.submit("#brand_form [name=_save]", "new brand with its errors", shows=ERRORS)


def _walk_in_the_dark_theme(audit: Audit, data) -> None:
    """Django's admin follows the system's dark mode; these pages set colours of their own."""
    page = audit.page
    page.emulate_media(color_scheme="dark")
    audit.visit("/admin/", "home, dark theme")
    chart_text = page.evaluate(
        "() => getComputedStyle(document.querySelector('#sales-module svg text')).fill"
    )
    body_text = page.evaluate("() => getComputedStyle(document.body).color")
    assert chart_text == body_text, "the sales chart's labels are not in the page's text colour"
    audit.visit(f"/admin/members/member/{data['member'].pk}/change/", "member 360, dark theme")
    audit.visit("/admin/core/outboxmessage/", "outbox, dark theme")
    audit.visit("/admin/orders/order/store-credit/", "store-credit report, dark theme")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("language", "locale"), LANGUAGES)
def test_back_office_pages_have_no_serious_accessibility_violations(
    live_server, browser, back_office, language, locale
):
    with page_in(browser, live_server.url, language=language, locale=locale) as page:
        audit = Audit(page, live_server.url, skip=HEADER_AND_SIDEBAR, widths=("desktop",))
        _sign_in(audit)
        assert page.locator("html").get_attribute("lang") == language
        audit.check("home: work waiting and the sales chart", whole=True)
        assert page.locator("#work-queue-module").count()
        assert page.locator("#sales-module svg").count()
        _walk_through_orders(audit, back_office)
        _walk_through_the_rest(audit, back_office)
        _walk_in_the_dark_theme(audit, back_office)

    audit.fail_on_findings(what=f"{language} back-office page states")


def _order_emails() -> dict[str, str]:
    order = make_ready_pickup()
    OutboxMessage.objects.filter(kind="email").delete()  # those the order sent on its way
    for template in messages.TEMPLATES:
        messages.email_shopper(order, template=template, extra=EXTRA[template])
    return {
        message.topic: message.payload["html"]
        for message in OutboxMessage.objects.filter(kind="email", topic__startswith="order.")
    }


def _password_reset_email(language: str) -> str:
    shopper = Client(HTTP_ACCEPT_LANGUAGE=language)
    shopper.cookies["django_language"] = language
    sent = len(mail.outbox)
    shopper.post("/account/password-reset/", {"email": EMAIL})
    (html, _kind) = mail.outbox[sent].alternatives[0]
    assert f'<html lang="{language}">' in html  # the language it is written in
    return html


@pytest.mark.django_db
def test_the_shops_emails_have_no_serious_accessibility_violations(page, settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    emails = _order_emails()
    assert len(emails) == len(messages.TEMPLATES)
    make_shopper(EMAIL, PASSWORD)
    for language, _locale in LANGUAGES:
        emails[f"password reset ({language})"] = _password_reset_email(language)
    audit = Audit(page, "")

    for name, html in emails.items():
        page.set_content(html)
        audit.check(f"email: {name}")
        if name.startswith("order."):  # in English and Chinese: the Chinese marked as such
            assert page.locator("[lang=zh-Hans]").count(), f"{name}: no part in Chinese"

    audit.fail_on_findings(what="emails at two widths")
