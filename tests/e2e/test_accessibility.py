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
from dataclasses import dataclass, field

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from omnimall.catalog.services import save_audited
from omnimall.core.actors import Actor
from omnimall.inventory import services as inventory
from omnimall.members.models import Member, Tier
from omnimall.members.partners import sandbox as partner_sandbox
from omnimall.members.services.identity import enrol_member
from omnimall.orders.services import pickup
from tests.catalog.factories import make_image
from tests.e2e.shoppers import make_shopper
from tests.inventory.factories import make_location, make_pickup_store
from tests.members.test_points_factories import give_points
from tests.orders.factories import Shop, make_ready_pickup, place

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STAFF = Actor.system("a11y")
EMAIL = "mei@example.com"
PASSWORD = "quiet-harbour-1987"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
AXE_SCRIPT = Axe().axe_script  # axe.min.js from the wheel
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = ("critical", "serious")
# A page showing form errors (per field, or for the whole form).
ERRORS = "[aria-invalid=true], .form-errors"
# HTMX marks an element while its request, swap and settle are under way.
HTMX_IDLE = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


@pytest.fixture(autouse=True)
def _sqlite_pass_only() -> None:
    """The pages' markup does not depend on the database: `make test` checks them in its
    SQLite pass and spares the PostgreSQL pass the ~30 s of browser work."""
    if connection.vendor != "sqlite":
        pytest.skip("accessibility is checked in the SQLite pass")


@dataclass
class Finding:
    page: str
    rule: str
    impact: str
    help: str
    help_url: str
    nodes: list[dict]
    widths: list[str] = field(default_factory=list)


def run_axe(page, *, whole_page: bool = True) -> list[dict]:
    """axe's violations on the page as it is now (axe is injected once per document).

    ``whole_page=False`` leaves out the header and footer, which are the same on every
    page and cost half of each run (the category menu is in them twice).
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    context = "document" if whole_page else "{exclude: [['.site-header'], ['.site-footer']]}"
    script = f"options => axe.run({context}, options)"
    return page.evaluate(script, AXE_OPTIONS)["violations"]


def describe(findings: list[Finding], *, heading: str) -> str:
    lines = [heading]
    for f in findings:
        lines.append(f"- {f.page} [{', '.join(f.widths)}] {f.rule} ({f.impact}): {f.help}")
        lines.append(f"    {f.help_url}")
        for node in f.nodes[:6]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            advice = [
                line.strip()
                for line in node.get("failureSummary", "").splitlines()
                if line.strip() and not line.strip().startswith("Fix ")
            ]
            if advice:
                lines.append(f"       {' / '.join(advice[:3])[:300]}")
        if len(f.nodes) > 6:
            lines.append(f"    … and {len(f.nodes) - 6} more elements")
    return "\n".join(lines)


class Audit:
    """Walks a browser page through the shop and collects axe's blocking violations."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base
        self.found: dict[tuple[str, str], Finding] = {}
        self.pages = 0

    def check(
        self, label: str, widths: tuple[str, ...] = ("desktop", "phone"), *, whole: bool = False
    ) -> None:
        """Audit the page at each width; the header and footer only when ``whole``."""
        self.pages += 1
        self.page.evaluate(
            "() => document.querySelectorAll('details:not(.mobile-menu)')"
            ".forEach(d => { d.open = true; })"
        )
        for width in widths:
            self.page.set_viewport_size(WIDTHS[width])
            for violation in run_axe(self.page, whole_page=whole):
                if violation["impact"] not in BLOCKING:
                    continue
                key = (label, violation["id"])
                finding = self.found.setdefault(
                    key,
                    Finding(
                        page=label,
                        rule=violation["id"],
                        impact=violation["impact"],
                        help=violation["help"],
                        help_url=violation["helpUrl"],
                        nodes=violation["nodes"],
                    ),
                )
                finding.widths.append(width)
        self.page.set_viewport_size(DESKTOP)

    def settle(self) -> None:
        self.page.wait_for_load_state()
        self.page.wait_for_function(HTMX_IDLE)

    def visit(
        self, path: str, label: str | None, *, status: int = 200, whole: bool = False
    ) -> None:
        """Open ``path`` and audit it, unless ``label`` is None (a later state of the same
        page is audited instead: a form once it shows its errors)."""
        response = self.page.goto(self.base + path)
        assert response is not None
        assert response.status == status, f"{label or path}: answered {response.status}"
        self.settle()
        if label is not None:
            self.check(label, whole=whole)

    def submit(self, button: str, label: str, *, shows: str) -> None:
        """Click a submit button, wait for the page it leads to, make sure it shows what
        this state is about (``shows``, a selector) and audit it."""
        with self.page.expect_navigation():
            self.page.locator(button).first.click()
        self.settle()
        assert self.page.locator(shows).count(), f"{label}: nothing matches {shows}"
        self.check(label)


@pytest.fixture
def shop(settings, live_server, catalog):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.SANDBOX_PARTNER_ENABLED = True
    tee = catalog.tee
    make_image(tee, name="tee.png")
    make_image(tee, name="tee-white.png", position=1, colour="white")
    warehouse = make_location("wh-a11y", city="Shanghai", priority=1)
    store = make_pickup_store("sh-a11y")
    for product in (tee, catalog.striped, catalog.sneaker):
        for sku in product.skus.all():
            for location in (warehouse, store):
                inventory.receive_stock(
                    location_id=location.pk, sku_id=sku.pk, quantity=10, actor=STAFF
                )
    partner_sandbox.ensure_partner(shop_url=f"{live_server.url}/", actor=STAFF)
    user = make_shopper(EMAIL, PASSWORD, with_address=True, first_name="Lin Mei")
    order_shop = Shop(warehouse=warehouse, store=store, skus=list(tee.skus.order_by("position")))
    picked_up = make_ready_pickup(order_shop, user=user, quantities=(1, 1))
    pickup.hand_over(store_id=store.pk, code=picked_up.pickup_code, actor=STAFF)
    return {
        "tee": tee,
        "user": user,
        "guest_order": place(order_shop, method="pickup", quantities=(1,)),
        "ready": make_ready_pickup(order_shop, user=user, quantities=(1,)),
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
    audit.visit(f"/orders/{shop['ready'].number}/", "member's order, ready for pick-up")
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
    context = browser.new_context(locale=locale, viewport=DESKTOP)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    audit = Audit(page, live_server.url)
    try:
        assert page.goto(live_server.url + "/").ok
        assert page.locator("html").get_attribute("lang") == language
        _walk_as_guest(audit, shop)
        _walk_through_account_pages(audit, shop)
        _enrol(shop["user"], tier)
        _walk_as_member(audit)
    finally:
        context.close()

    found = list(audit.found.values())
    if found:
        pytest.fail(
            describe(
                found,
                heading=f"Serious or critical accessibility violations: {len(found)} "
                f"(axe-core, WCAG 2.1 A/AA, {audit.pages} {language} page states)",
            ),
            pytrace=False,
        )


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
