"""A refused checkout (and invoice) form announces its problems once: one error summary
(``role="alert"``) at the top of the form, linking to each field in error, while each
field keeps its own error beside it, tied to the input (``aria-describedby``,
``aria-invalid``)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from omnimall.orders.models import Order
from tests.checkout.conftest import make_zone
from tests.checkout.test_pages import add, checkout_form

pytestmark = pytest.mark.django_db


def alerts(html: str) -> list[str]:
    return re.findall(r"<[a-z]+ [^>]*role=\"alert\"[^>]*>", html)


def summary(html: str) -> str:
    """The error summary's markup (it holds no ``<div>`` of its own)."""
    (start,) = [m.start() for m in re.finditer(r'<div class="form-errors error-summary"', html)]
    return html[start : html.index("</div>", start)]


def links(html: str) -> list[str]:
    return re.findall(r'<a href="#([^"]+)">', summary(html))


def tag_with_id(html: str, element_id: str) -> str:
    (tag,) = re.findall(rf'<[a-z]+ [^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    return tag


def test_a_refused_checkout_shows_one_alert_linking_to_each_field_in_error(shop, client):
    add(client, shop.tee_s, 1)

    response = client.post(
        "/checkout/", checkout_form(email="", phone="12345", province="", postal_code="2000")
    )

    html = response.content.decode()
    assert not Order.objects.exists()
    assert len(alerts(html)) == 1
    assert 'class="form-errors error-summary" role="alert"' in alerts(html)[0]
    assert "There is a problem" in summary(html)
    # In the page's order, each linked to its input, which points at its own error.
    assert links(html) == ["id_email", "id_phone", "id_province", "id_postal_code"]
    for field_id in links(html):
        tag = tag_with_id(html, field_id)
        assert tag.startswith("<input ")
        assert 'aria-invalid="true"' in tag
        assert f'aria-describedby="{field_id}_error"' in tag
        assert 'role="alert"' not in tag_with_id(html, f"{field_id}_error")
    assert "Email: This field is required." in summary(html)
    assert "Postal code: A postal code has six digits." in summary(html)


def test_a_missing_store_links_to_the_store_picker(shop, client):
    add(client, shop.tee_s, 1)

    html = client.post(
        "/checkout/", checkout_form(delivery_method="pickup", store_city="Shanghai")
    ).content.decode()

    assert links(html) == ["id_store"]
    group = tag_with_id(html, "id_store")
    assert 'role="radiogroup"' in group
    assert 'tabindex="-1"' in group  # the link can move the focus to it
    assert 'aria-describedby="id_store_error"' in group
    assert 'id="id_store_error"' in html


def test_a_problem_of_the_whole_form_is_in_the_summary_without_a_link(shop, client):
    make_zone("偏远地区", ["XJ"], name_en="Remote regions")
    add(client, shop.tee_s, 1)

    html = client.post(
        "/checkout/", checkout_form(province="新疆", shipping_quoted="10.00")
    ).content.decode()

    assert len(alerts(html)) == 1
    assert links(html) == []
    assert "Delivery to Xinjiang costs ¥20: the total is updated." in summary(html)


def test_the_invoice_fields_are_in_the_summary_when_an_invoice_is_wanted(shop, client):
    add(client, shop.tee_s, 1)
    invoice = {"invoice-kind": "company", "invoice-title": "北风", "invoice-tax_id": "123"}

    wanted = client.post("/checkout/", checkout_form(want_invoice="on", **invoice))
    not_wanted = client.post("/checkout/", checkout_form(name="", **invoice))

    assert links(wanted.content.decode()) == ["id_invoice-tax_id"]
    assert links(not_wanted.content.decode()) == ["id_name"]


def test_too_many_points_is_a_field_error_named_in_the_summary(shop, shopper, member):
    client = Client()
    client.force_login(shopper)
    add(client, shop.shirt_l, 1)

    html = client.post(
        "/checkout/", checkout_form(action="points", points="15000")
    ).content.decode()

    assert len(alerts(html)) == 1
    assert links(html) == ["id_points"]
    assert "Points to use: At most 14950 points on this order." in summary(html)
    assert 'aria-describedby="id_points_error"' in tag_with_id(html, "id_points")


def test_a_checkout_page_without_errors_has_no_summary_and_no_alert(shop, client):
    add(client, shop.tee_s, 1)

    html = client.get("/checkout/").content.decode()

    assert "error-summary" not in html
    assert alerts(html) == []


def test_the_order_pages_invoice_form_shows_the_same_summary(shop, client):
    add(client, shop.tee_s, 1)
    client.post("/checkout/", checkout_form())
    order = Order.objects.get()

    html = client.post(
        f"/orders/{order.number}/invoice/",
        {"kind": "company", "title": "北风", "tax_id": "123"},
    ).content.decode()

    assert len(alerts(html)) == 1
    assert links(html) == ["id_tax_id"]
    assert 'aria-invalid="true"' in tag_with_id(html, "id_tax_id")
