"""The hand-written hot paths of the cart keep every rule of the queryset versions.

``add_line`` writes with one upsert and reads the SKU only on a refusal; a new cart is
priced without a query; ``price_cart`` and ``price_lines_of`` read the lines with one
statement each. These tests pin the edges those statements decide.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import translation

from omnimall.catalog.models import Price
from omnimall.checkout import schemas, selectors
from omnimall.checkout.errors import (
    QuantityOutOfRangeError,
    SkuNotFoundError,
    SkuUnavailableError,
    TooManyLinesError,
)
from omnimall.checkout.models import CartLine
from omnimall.checkout.services import carts

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def _quantities(cart):
    return dict(CartLine.objects.filter(cart=cart).values_list("sku_id", "quantity"))


def test_a_merge_up_to_twenty_is_taken_and_one_more_unit_is_refused(shop):
    cart = carts.create_cart(user=None)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=12)
    carts.add_line(token=cart.token, user=None, sku_id=shop.tee_s.pk, quantity=8)

    with pytest.raises(QuantityOutOfRangeError) as refused:
        carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=1)

    assert refused.value.details == {
        "sku": shop.tee_s.code,
        "in_cart": 20,
        "quantity": 1,
        "maximum": 20,
    }
    assert _quantities(cart) == {shop.tee_s.pk: 20}


def test_a_full_cart_merges_its_own_sku_and_refuses_a_new_one(shop, monkeypatch):
    monkeypatch.setattr(carts, "MAX_LINES", 2)
    cart = carts.create_cart(user=None)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=1)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_m.code, quantity=1)

    carts.add_line(token=cart.token, user=None, sku_id=shop.tee_m.pk, quantity=3)
    with pytest.raises(TooManyLinesError):
        carts.add_line(token=cart.token, user=None, sku_id=shop.shirt_l.pk, quantity=1)

    assert _quantities(cart) == {shop.tee_s.pk: 1, shop.tee_m.pk: 4}


@pytest.mark.parametrize("what", ["sku", "product", "brand"])
def test_more_of_a_line_whose_sku_went_inactive_is_refused(shop, what):
    cart = carts.create_cart(user=None)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=2)
    target = {"sku": shop.tee_s, "product": shop.tee, "brand": shop.tee.brand}[what]
    type(target).objects.filter(pk=target.pk).update(is_active=False)

    with pytest.raises(SkuUnavailableError) as refused:
        carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=1)

    assert refused.value.details == {"sku": shop.tee_s.code, "reason": "inactive"}
    assert _quantities(cart) == {shop.tee_s.pk: 2}


def test_more_of_a_line_whose_sku_lost_its_price_is_refused(shop):
    cart = carts.create_cart(user=None)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=2)
    Price.objects.filter(sku=shop.tee_s).delete()

    with pytest.raises(SkuUnavailableError) as refused:
        carts.add_line(token=cart.token, user=None, sku_id=shop.tee_s.pk, quantity=1)

    assert refused.value.details == {"sku": shop.tee_s.code, "reason": "no_price"}
    assert _quantities(cart) == {shop.tee_s.pk: 2}


def test_an_unknown_sku_id_or_code_is_not_found_and_writes_nothing(shop):
    cart = carts.create_cart(user=None)

    with pytest.raises(SkuNotFoundError) as by_id:
        carts.add_line(token=cart.token, user=None, sku_id=2**40, quantity=1)
    with pytest.raises(SkuNotFoundError) as by_code:
        carts.add_line(token=cart.token, user=None, sku_code="NO-SUCH", quantity=1)

    assert by_id.value.details == {"sku": 2**40}
    assert by_code.value.details == {"sku": "NO-SUCH"}
    assert _quantities(cart) == {}


def test_create_cart_answers_the_priced_empty_cart_with_one_statement(
    shop, client, django_assert_max_num_queries
):
    # One INSERT; in a test its transaction shows as a SAVEPOINT/RELEASE pair.
    with django_assert_max_num_queries(3):
        created = client.post("/api/v1/carts", "{}", content_type="application/json")

    token = created.json()["id"]
    assert created.status_code == 201
    assert created.json() == client.get(f"/api/v1/carts/{token}").json() | {"points": None}


def test_price_lines_of_prices_like_price_cart(shop):
    cart = carts.create_cart(user=None)
    for sku, quantity in ((shop.shirt_l, 2), (shop.tee_s, 3), (shop.tee_white, 1)):
        carts.add_line(token=cart.token, user=None, sku_code=sku.code, quantity=quantity)
    Price.objects.filter(sku=shop.tee_white).delete()  # a flagged line: no price

    for language in ("en", "zh-hans"):
        with translation.override(language):
            priced = selectors.price_cart(cart, method="pickup", with_stock=False)
            placed = selectors.price_lines_of(token=cart.token, method="pickup")

        assert placed == priced
        assert [line.brand_name for line in placed.lines] == (
            ["北风"] * 3 if language == "zh-hans" else ["Northwind"] * 3
        )
    assert [(line.sku_code, line.flag) for line in placed.lines] == [
        (shop.shirt_l.code, None),
        (shop.tee_s.code, None),
        (shop.tee_white.code, "no_price"),
    ]
    assert [(line.unit_price, line.list_price, line.line_total) for line in placed.lines] == [
        (Decimal("299.00"), Decimal("399.00"), Decimal("598.00")),
        (Decimal("49.00"), Decimal("49.00"), Decimal("147.00")),
        (None, None, None),
    ]
    assert placed.totals.subtotal == Decimal("745.00")
    assert selectors.price_lines_of(token="no-such-cart") is None


def test_the_cart_answer_built_without_validation_is_what_validation_gives(shop):
    cart = carts.create_cart(user=None)
    for sku, quantity in ((shop.shirt_l, 2), (shop.tee_s, 3), (shop.tee_white, 1)):
        carts.add_line(token=cart.token, user=None, sku_code=sku.code, quantity=quantity)

    for view in (selectors.new_cart_view(cart), selectors.price_cart(cart, method="pickup")):
        out = schemas.cart_out(view, "https://shop.example")

        assert out.model_dump_json() == schemas.CartOut(**out.model_dump()).model_dump_json()
        assert type(out.state) is str
        assert type(out.delivery_method) is str
