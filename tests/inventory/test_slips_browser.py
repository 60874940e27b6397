"""Packing slips printed from a real browser (Playwright driving Chromium): one A4 page a
slip, nothing of the screen's toolbar on the paper, and the Print button prints."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from omnimall.core import roles
from tests.orders.factories import make_paid_order, make_shop, request_ids

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

A4_POINTS = (595, 842)  # 210 × 297 mm


def test_browser_prints_each_slip_on_its_own_a4_page_without_the_toolbar(
    live_server, page, settings
):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    shop = make_shop(units=10)
    chosen = [request_ids(make_paid_order(shop, method=m))[0] for m in ("ship", "pickup", "ship")]
    password = "slow-river-4410"
    user = get_user_model().objects.create_user("sam", password=password, is_staff=True)
    user.groups.add(Group.objects.get(name=roles.LOGISTICS))
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; };")

    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "sam")
    page.fill("#id_password", password)
    page.locator("input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    url = reverse("admin:inventory_fulfilmentrequest_packing_slips")
    page.goto(f"{live_server.url}{url}?ids={','.join(map(str, chosen))}")

    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed") == 1
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()
    assert page.locator("article.slip").count() == 3
    pdf = page.pdf(prefer_css_page_size=True)
    sizes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert len(sizes) == 3
    assert {(round(float(w)), round(float(h))) for w, h in sizes} == {A4_POINTS}
