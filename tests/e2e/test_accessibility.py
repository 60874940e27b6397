"""Accessibility of the shopper's pages, checked by axe-core in a real browser.

axe-core (the copy bundled in the ``axe-playwright-python`` wheel: nothing is downloaded
while testing) runs its WCAG 2.0 and 2.1 level A and AA rules in Chromium on every page a
shopper meets, in both languages, at a desktop width (1280×900) and a phone width
(390×844): home (with a category fly-out and the live suggestions open, and the phone
menu open), a category with facets, search results, two product pages, the store finder,
a help page, the 404 page, the bag empty, with lines and with a flagged line, checkout
(delivery; its form errors; pick-up with the store picker and the invoice fields; a
signed-in member's), the sandbox bank's payment page, a guest's and a member's order pages
(awaiting payment, ready for pick-up with its code, picked up), returns and invoices,
sign-up, sign-in and password reset (with their errors), the address book, the order
history and the member pages (joining, the member centre on a silver or gold card, the
points exchange). Closed ``<details>`` are opened first, so what they hold is checked too.

A violation of impact "serious" or "critical" fails the test, and the message lists every
one: page, language, widths, rule, the elements and axe's advice. Nothing is allowlisted.
Moderate and minor findings (mostly best-practice rules, outside the WCAG tags) are not
checked here.

Each language is one test, so pytest-xdist runs the two side by side; each page is loaded
once and audited at both widths by resizing the window in place. The header and footer are
the same on every page: they are audited on the home page (with the fly-out, the
suggestions and the phone menu open), the bag (its count) and the account overview
(signed in), and left out elsewhere, which halves the cost of each run.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from omnimall.catalog.services import save_audited
from omnimall.core.actors import Actor
from omnimall.members.models import Member, Tier
from omnimall.members.partners import sandbox as partner_sandbox
from omnimall.members.services.identity import enrol_member
from omnimall.orders.services import pickup
from tests.catalog.factories import make_image
from tests.e2e.axe import PHONE, Audit, describe, page_in
from tests.e2e.shoppers import make_shopper
from tests.members.test_points_factories import give_points
from tests.orders.factories import make_ready_pickup, place

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sqlite_pass_only"),
]

STAFF = Actor.system("a11y")
EMAIL = "mei@example.com"
PASSWORD = "quiet-harbour-1987"
# A page showing form errors (per field, or for the whole form).
ERRORS = "[aria-invalid=true], .form-errors"
# The same on every page: audited where they change (see the module's docstring).
HEADER_AND_FOOTER = (".site-header", ".site-footer")


@pytest.fixture
def shop(settings, live_server, catalog, stocked):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.SANDBOX_PARTNER_ENABLED = True
    tee = catalog.tee
    make_image(tee, name="tee.png")
    make_image(tee, name="tee-white.png", position=1, colour="white")
    partner_sandbox.ensure_partner(shop_url=f"{live_server.url}/", actor=STAFF)
    user = make_shopper(EMAIL, PASSWORD, with_address=True, first_name="Lin Mei")
    picked_up = make_ready_pickup(stocked, user=user, quantities=(1, 1))
    pickup.hand_over(store_id=stocked.store.pk, code=picked_up.pickup_code, actor=STAFF)
    return {
        "tee": tee,
        "user": user,
        "guest_order": place(stocked, method="pickup", quantities=(1,)),
        "ready": make_ready_pickup(stocked, user=user, quantities=(1,)),
        "picked_up": picked_up,
    }


def _enrol(user, tier: str) -> None:
    member = enrol_member(phone="+8613800138000", actor=STAFF, name="Lin Mei", user_id=user.pk)
    give_points(member, 5000, document="welcome", actor=STAFF)
    # Test data: the card's colours differ per tier, so show a silver or a gold one.
    Member.objects.filter(pk=member.pk).update(tier=Tier.objects.get(code=tier))


def _walk_as_guest(audit: Audit, shop) -> None:
    page = audit.page
    audit.visit("/", "home", whole=True)
    # The fly-out (hover) and the live suggestions (focus in the search box) at once.
    page.locator("#search-q").fill("tee")
    page.locator("#search-suggestions .suggestion-list").wait_for()
    page.locator(".main-nav .nav-link").first.hover()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.main-nav .flyout')).opacity === '1'"
    )
    audit.check("home, fly-out and suggestions open", widths=("desktop",), whole=True)
    page.set_viewport_size(PHONE)
    page.locator(".mobile-menu > summary").click()
    audit.check("home, phone menu open", widths=("phone",), whole=True)

    audit.visit("/c/women/tops/t-shirts/?brand=northwind", "category with a facet chosen")
    audit.visit("/search/?q=tee", "search results")
    audit.visit("/p/court-sneakers/", "product without photos")
    audit.visit("/stores/", "store finder")
    audit.visit("/help/returns/", "help page")
    audit.visit("/p/no-such-thing/", "404 page", status=404)
    audit.visit("/cart/", "empty bag")

    for sku in shop["tee"].skus.order_by("position")[:2]:
        audit.visit(f"/p/cotton-tee/?sku={sku.code}", None)
        page.locator("form.add-to-cart button[type=submit]").click()
        page.locator(".add-ok").wait_for()
    audit.check("product with photos, just added to the bag")
    audit.visit("/cart/", "bag", whole=True)  # the header's bag count
    audit.visit("/checkout/", None)
    audit.submit("button[name=action][value=pay]", "checkout with form errors", shows=ERRORS)
    page.check("#method-pickup")
    page.fill("#id_store_city", "Shanghai")
    page.locator("#store-picker input[name=store]").first.wait_for()
    page.check("#id_want_invoice")
    page.check("#invoice-company")
    audit.settle()
    audit.check("checkout, pick-up store picker and invoice fields")

    flagged = shop["tee"].skus.order_by("position")[1]
    flagged.is_active = False
    save_audited(instance=flagged, actor=STAFF)
    audit.visit("/cart/", "bag with a line that cannot be bought")

    order = shop["guest_order"]
    audit.visit(order.payment_url.removeprefix("http://testserver"), "sandbox bank's payment page")
    audit.visit(f"/orders/{order.number}/?token={order.guest_token}", "guest's order, unpaid")
    audit.visit(f"/orders/{order.number}/cancel/?token={order.guest_token}", "cancel: why?")
    audit.visit(
        f"/orders/{order.number}/store/?token={order.guest_token}",
        "change the pick-up store: no other store holds it",
    )
    audit.visit("/orders/find/", None)
    audit.submit("main form button[type=submit]", "find your order with errors", shows=ERRORS)


def _walk_through_account_pages(audit: Audit, shop) -> None:
    page, user = audit.page, shop["user"]
    audit.visit("/account/signup/", None)
    page.fill("#id_email", "not-an-email")
    page.fill("#id_password1", "short")
    audit.submit("main form button[type=submit]", "sign up with errors", shows=ERRORS)
    audit.visit("/account/password-reset/", "password reset")
    page.fill("#id_email", EMAIL)
    audit.submit("main form button[type=submit]", "password reset sent", shows="main h1")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    audit.visit(f"/account/password-reset/{uid}/{token}/", "choose a new password")
    audit.visit("/account/login/", None)
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", "not the password")
    audit.submit("main form button[type=submit]", "sign in with errors", shows=ERRORS)
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation(url=re.compile(r"/account/$")):
        page.locator("main form button[type=submit]").click()
    audit.settle()
    audit.check("account overview", whole=True)  # the header signed in

    audit.visit("/account/member/", "member centre, not a member yet")
    audit.visit("/account/addresses/", "address book")
    audit.visit("/account/addresses/new/", None)
    page.fill("#id_postal_code", "2000")
    audit.submit(
        "main form:not(.account-logout) button[type=submit]",
        "new address with errors",
        shows=ERRORS,
    )
    audit.visit("/account/orders/", "order history")
    audit.visit("/account/orders/?show=to_receive", "order history, the to-receive tab")
    audit.visit(f"/orders/{shop['ready'].number}/", "member's order, ready for pick-up")
    audit.visit(f"/orders/{shop['ready'].number}/collector/", "someone else collects it")
    audit.submit("form.collector-form button[type=submit]", "collector with errors", shows=ERRORS)
    picked_up = shop["picked_up"].number
    audit.visit(f"/orders/{picked_up}/", "member's order, picked up")
    audit.visit(f"/orders/{picked_up}/return/", None)
    audit.submit("form.return-form button[type=submit]", "return request with errors", shows=ERRORS)
    audit.visit(f"/orders/{picked_up}/invoice/", "invoice request")


def _walk_as_member(audit: Audit) -> None:
    audit.visit("/account/member/", "member centre")
    audit.visit("/account/member/exchange/", "points exchange")
    audit.visit("/checkout/", "checkout as a member with points and a saved address")


@pytest.mark.parametrize(
    ("language", "locale", "tier"), [("en", "en-US", "gold"), ("zh-hans", "zh-CN", "silver")]
)
def test_shopper_pages_have_no_serious_accessibility_violations(
    live_server, browser, shop, language, locale, tier
):
    with page_in(browser, live_server.url, language=language, locale=locale) as page:
        audit = Audit(page, live_server.url, skip=HEADER_AND_FOOTER)
        assert page.goto(live_server.url + "/").ok
        assert page.locator("html").get_attribute("lang") == language
        _walk_as_guest(audit, shop)
        _walk_through_account_pages(audit, shop)
        _enrol(shop["user"], tier)
        _walk_as_member(audit)

    audit.fail_on_findings(what=f"{language} page states")


def test_the_audit_reports_a_serious_violation_readably(page):
    """The check above can fail: a link with only an unlabelled image is reported."""
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>Shop</h1>'
        '<a href="/p/"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></a>'
        "</main></body></html>"
    )
    audit = Audit(page, "")

    audit.check("a page with an unnamed link")

    report = describe(list(audit.found.values()), heading="found:")
    assert "- a page with an unnamed link [desktop, phone] link-name (serious)" in report
    assert 'at a: <a href="/p/">' in report
    assert "Element is in tab order and does not have accessible text" in report
