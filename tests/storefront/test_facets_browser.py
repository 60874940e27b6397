"""The category page's filters at phone width in a real browser (Playwright, Chromium)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_phone_filters_start_folded_and_stay_open_while_choosing_several(live_server, page, shop):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/c/women/")
    facets = page.locator("details.facets-toggle")
    assert facets.evaluate("d => d.open") is False

    facets.locator("summary").click()
    page.locator(".facet-brand a[data-value=lumen]").click()
    page.locator(".facet-value.is-selected[data-value=lumen]").wait_for(state="attached")
    page.wait_for_timeout(300)  # past the swap's settle

    assert page.url.endswith("/c/women/?brand=lumen")
    assert page.locator("details.facets-toggle").evaluate("d => d.open") is True
    assert page.locator(".facet-colour a").first.is_visible()  # a second filter is at hand


def test_phone_filters_stay_folded_when_the_listing_changes_page_or_sort(live_server, page, shop):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/c/women/")

    page.locator("#sort").select_option("price_asc")
    page.wait_for_url("**/c/women/?sort=price_asc")
    page.wait_for_timeout(300)

    assert page.locator("details.facets-toggle").evaluate("d => d.open") is False


def test_arrow_keys_through_the_sort_menu_reload_once_on_enter(live_server, page, shop):
    """A closed select changes with each arrow key: the listing reloads for the choice the
    shopper settles on (Enter, or leaving the menu), not for each one passed on the way."""
    page.goto(f"{live_server.url}/c/women/")
    listings = []
    page.on(
        "request", lambda request: listings.append(request.url) if "sort=" in request.url else None
    )
    sort = page.locator("#sort")
    sort.focus()

    sort.press("ArrowDown")
    sort.press("ArrowDown")
    page.wait_for_timeout(400)
    assert listings == []
    chosen = sort.input_value()

    sort.press("Enter")
    page.wait_for_url(f"**/c/women/?sort={chosen}")
    assert len(listings) == 1

    # Leaving the menu after moving through it also chooses.
    page.locator("#sort").focus()
    page.locator("#sort").press("ArrowUp")
    page.wait_for_timeout(300)
    assert len(listings) == 1
    page.locator("#sort").press("Tab")
    page.wait_for_url(f"**/c/women/?sort={page.locator('#sort').input_value()}")
    assert len(listings) == 2
