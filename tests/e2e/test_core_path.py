"""The shopper's core path in a real browser (Playwright driving Chromium).

Home → a category through the navigation bar's fly-out → a facet → search in Chinese and
in English with a typo → a product → another variant → the other language. A second test
walks the same path with JavaScript switched off.
"""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _card_names(page) -> list[str]:
    return page.locator("#listing .card-name").all_inner_texts()


def test_core_path_works_in_browser_when_javascript_is_on(live_server, page, catalog):
    page.goto(live_server.url + "/")
    assert page.locator("h2", has_text="Featured products").is_visible()

    # Navigation bar: hover the top level, pick a third-level category in the fly-out.
    page.locator(".main-nav .nav-link", has_text="Women").hover()
    flyout_link = page.locator(".main-nav .flyout a", has_text="T-shirts")
    flyout_link.wait_for(state="visible")
    flyout_link.click()
    page.wait_for_url(re.compile(r"/c/women/tops/t-shirts/$"))
    assert page.locator("h1").inner_text() == "T-shirts"
    assert sorted(_card_names(page)) == ["Cotton Tee", "Striped Tee"]

    # Facet: brand Lumen; the URL holds the state.
    page.locator(".facet-brand a", has_text="Lumen").click()
    page.wait_for_url(re.compile(r"brand=lumen"))
    page.wait_for_function("document.querySelectorAll('#listing .card').length === 1")
    assert _card_names(page) == ["Striped Tee"]

    # Live suggestions under the search box, then a Chinese search.
    box = page.locator("#search-q")
    box.fill("")
    box.press_sequentially("运动", delay=30)
    page.locator("#search-suggestions .suggestion-list").wait_for(state="attached")
    box.fill("运动鞋")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q="))
    assert "Court Sneakers" in _card_names(page)

    # English search with a typo.
    page.locator("#search-q").fill("sneakr")
    page.locator("#search-q").press("Enter")
    page.wait_for_url(re.compile(r"q=sneakr"))
    assert "Court Sneakers" in _card_names(page)

    # Product page; switching the variant changes the price and the SKU at once.
    page.locator("#listing .card-link", has_text="Court Sneakers").click()
    page.wait_for_url(re.compile(r"/p/court-sneakers/"))
    price = page.locator("#product-price [data-role=price]")
    sku = page.locator("[data-role=sku]")
    assert price.inner_text() == "¥599"
    assert sku.inner_text() == "COURT-SNEAKERS-40-WHITE"
    page.locator(".colour-option[data-colour=black]").click()
    assert sku.inner_text() == "COURT-SNEAKERS-42-BLACK"
    assert price.inner_text() == "¥649"
    assert page.url.endswith("?sku=COURT-SNEAKERS-42-BLACK")
    assert page.locator(".size-option.is-selected").inner_text() == "42"

    # Language switch: Chinese, then back to English, staying on the same page.
    page.locator(".lang-switch button").click()
    page.wait_for_load_state()
    assert page.locator("h1.product-name").inner_text() == "经典运动鞋"
    assert "尺码" in page.locator(".variant-picker").inner_text()
    page.locator(".lang-switch button").click()
    page.wait_for_load_state()
    assert page.locator("h1.product-name").inner_text() == "Court Sneakers"
    assert "Size" in page.locator(".variant-picker").inner_text()
    # The page loads its availability after it shows; let that request finish before the
    # test's database is flushed (a live-server thread still reading it locks SQLite).
    page.wait_for_load_state("networkidle")


def test_core_path_works_in_browser_when_javascript_is_off(
    live_server, page_without_javascript, catalog
):
    page = page_without_javascript
    page.goto(live_server.url + "/")
    page.locator(".main-nav .nav-link", has_text="Shoes").hover()
    page.locator(".main-nav .flyout a", has_text="Sneakers").click()
    page.wait_for_url(re.compile(r"/c/shoes/sneakers/$"))

    page.locator(".facet-colour a", has_text="Black").click()
    page.wait_for_url(re.compile(r"colour=black"))
    assert _card_names(page) == ["Court Sneakers"]

    page.locator("#search-q").fill("sneakr")
    page.locator(".search-box button[type=submit]").click()
    page.wait_for_url(re.compile(r"q=sneakr"))
    page.locator("#listing .card-link", has_text="Court Sneakers").click()

    page.locator(".colour-option[data-colour=black]").click()
    page.wait_for_url(re.compile(r"sku=COURT-SNEAKERS-42-BLACK"))
    assert page.locator("#product-price [data-role=price]").inner_text() == "¥649"

    page.locator(".lang-switch button").click()
    page.wait_for_url(re.compile(r"sku=COURT-SNEAKERS-42-BLACK"))
    assert page.locator("h1.product-name").inner_text() == "经典运动鞋"
