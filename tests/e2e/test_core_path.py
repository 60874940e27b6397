"""The shopper's core path in a real browser (Playwright driving Chromium).

Home → a category through the navigation bar's fly-out → a facet → search in Chinese and
in English with a typo → a product → another variant → the other language. A second test
walks the same path with JavaScript switched off.
"""

from __future__ import annotations

import re

import pytest

from omnimall.search.services import rebuild_index
from tests.catalog.factories import BrandFactory, make_category, make_product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog():
    # Default channels and price lists: put back by tests/conftest.py for transactional tests.
    women = make_category("women", name_en="Women", name_zh="女装", is_featured=True)
    tops = make_category("tops", parent=women, name_en="Tops", name_zh="上衣")
    tshirts = make_category("t-shirts", parent=tops, name_en="T-shirts", name_zh="T恤")
    shoes = make_category("shoes", name_en="Shoes", name_zh="鞋履")
    sneakers = make_category("sneakers", parent=shoes, name_en="Sneakers", name_zh="运动鞋")
    northwind = BrandFactory(slug="northwind", name_en="Northwind", name_zh="北风")
    lumen = BrandFactory(slug="lumen", name_en="Lumen", name_zh="流明")
    make_product(
        category=tshirts,
        brand=northwind,
        slug="cotton-tee",
        name_en="Cotton Tee",
        name_zh="纯棉T恤",
        popularity=5,
        variants=(("M", "black", "99.00"),),
    )
    make_product(
        category=tshirts,
        brand=lumen,
        slug="striped-tee",
        name_en="Striped Tee",
        name_zh="条纹T恤",
        popularity=4,
        variants=(("S", "navy", "129.00"),),
    )
    make_product(
        category=sneakers,
        brand=northwind,
        slug="court-sneakers",
        name_en="Court Sneakers",
        name_zh="经典运动鞋",
        popularity=9,
        variants=(("40", "white", "599.00"), ("42", "white", "599.00"), ("42", "black", "649.00")),
    )
    rebuild_index()


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


def test_core_path_works_in_browser_when_javascript_is_off(live_server, browser, catalog):
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
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
    finally:
        context.close()
