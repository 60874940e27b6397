"""The accessibility audit the browser tests share: axe-core run in Chromium on a page.

axe-core is the copy bundled in the ``axe-playwright-python`` wheel (nothing is downloaded
while testing). Its WCAG 2.0 and 2.1 level A and AA rules run on each page state; a
violation of impact "serious" or "critical" is a finding, reported with the page, the
widths, the rule, the elements and axe's advice. Moderate and minor findings (mostly
best-practice rules, outside the WCAG tags) are not collected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser import open_page

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
AXE_SCRIPT = Axe().axe_script  # axe.min.js from the wheel
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = ("critical", "serious")
# HTMX marks an element while its request, swap and settle are under way.
HTMX_IDLE = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


@dataclass
class Finding:
    page: str
    rule: str
    impact: str
    help: str
    help_url: str
    nodes: list[dict]
    widths: list[str] = field(default_factory=list)


def run_axe(page, *, skip: Sequence[str] = ()) -> list[dict]:
    """axe's violations on the page as it is now (axe is injected once per document), less
    the parts matching the selectors in ``skip``."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    context = json.dumps({"exclude": [[selector] for selector in skip]}) if skip else "document"
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


@contextmanager
def page_in(browser, base: str, *, language: str, locale: str) -> Iterator[object]:
    """A desktop-sized page of its own, the site's language chosen as the switch does."""
    with open_page(browser, locale=locale, viewport=DESKTOP) as page:
        page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
        page.set_default_timeout(15_000)
        yield page


class Audit:
    """Walks a browser page through a site and collects axe's blocking violations.

    ``skip``: selectors of the parts that are the same on every page (a header, say),
    left out unless a check asks for the whole page. ``widths``: the widths each page
    state is checked at unless a check names its own.
    """

    def __init__(
        self,
        page,
        base: str,
        *,
        skip: Sequence[str] = (),
        widths: tuple[str, ...] = ("desktop", "phone"),
    ) -> None:
        self.page = page
        self.base = base
        self.skip = tuple(skip)
        self.widths = widths
        self.found: dict[tuple[str, str], Finding] = {}
        self.pages = 0

    def check(self, label: str, widths: tuple[str, ...] = (), *, whole: bool = False) -> None:
        """Audit the page at each width; the parts in ``skip`` only when ``whole``.

        Closed ``<details>`` (but a phone menu) are opened first, so what they hold is
        checked too."""
        self.pages += 1
        self.page.evaluate(
            "() => document.querySelectorAll('details:not(.mobile-menu)')"
            ".forEach(d => { d.open = true; })"
        )
        for width in widths or self.widths:
            self.page.set_viewport_size(WIDTHS[width])
            skip = () if whole else self.skip
            for violation in run_axe(self.page, skip=skip):
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

    def fail_on_findings(self, *, what: str) -> None:
        found = list(self.found.values())
        if found:
            pytest.fail(
                describe(
                    found,
                    heading=f"Serious or critical accessibility violations: {len(found)} "
                    f"(axe-core, WCAG 2.1 A/AA, {self.pages} {what})",
                ),
                pytrace=False,
            )
