"""The product page's variant picker in a real browser (Playwright driving Chromium)."""

from __future__ import annotations

import pytest

from tests.catalog.factories import BrandFactory, make_category, make_image, make_product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_colour_tee(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    product = make_product(
        category=make_category("tops", name_en="Tops", name_zh="上装"),
        brand=BrandFactory(slug="northwind", name_en="Northwind", name_zh="北风"),
        slug="pocket-tee",
        name_en="Pocket Tee",
        name_zh="口袋T恤",
        variants=(("M", "white", "99.00"), ("M", "navy", "99.00")),
    )
    make_image(product, name="white.png", position=0, colour="white")
    make_image(product, name="navy.png", position=1, colour="navy")
    return product


def _gallery_offset(page) -> float:
    return page.locator(".gallery-main").evaluate("el => el.scrollLeft")


def test_a_link_to_another_colour_opens_on_that_colours_photo(live_server, page, two_colour_tee):
    page.goto(f"{live_server.url}/p/pocket-tee/?sku=POCKET-TEE-M-NAVY")
    page.wait_for_function("() => document.querySelector('.gallery-main').scrollLeft > 0")
    assert _gallery_offset(page) > 0

    page.goto(f"{live_server.url}/p/pocket-tee/")  # the first colour: the first photo
    page.wait_for_timeout(300)
    assert _gallery_offset(page) == 0
