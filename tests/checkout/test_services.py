"""Cart services and the priced view: flags, merging at sign-in, the address book."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnimall.catalog.models import Price
from omnimall.checkout import selectors
from omnimall.checkout.errors import (
    AddressNotFoundError,
    CartClosedError,
    CartNotFoundError,
    TooManyLinesError,
)
from omnimall.checkout.models import Cart, CartLine, CartState
from omnimall.checkout.services import addresses, carts
from omnimall.checkout.services.addresses import InvalidAddressError
from tests.checkout.conftest import ADDRESS

pytestmark = pytest.mark.django_db


def _lines(token, user=None):
    return {line.sku_code: line for line in selectors.get_cart_view(token=token, user=user).lines}


def test_unavailable_lines_are_flagged_not_dropped_and_left_out_of_totals(shop):
    cart = carts.create_cart(user=None)
    for sku in (shop.tee_s, shop.tee_m, shop.tee_white, shop.shirt_l):
        carts.add_line(token=cart.token, user=None, sku_code=sku.code, quantity=1)
    shop.tee_m.is_active = False
    shop.tee_m.save()
    Price.objects.filter(sku=shop.shirt_l).delete()

    view = selectors.get_cart_view(token=cart.token, user=None)

    flags = {line.sku_code: line.flag for line in view.lines}
    assert flags == {
        shop.tee_s.code: None,
        shop.tee_m.code: "sku_inactive",
        shop.tee_white.code: "out_of_stock",
        shop.shirt_l.code: "no_price",
    }
    assert view.totals.subtotal == Decimal("49.00")
    assert view.totals.item_count == 1
    assert not view.can_check_out
    assert CartLine.objects.filter(cart=cart).count() == 4


def test_an_inactive_product_flags_its_lines(shop):
    cart = carts.create_cart(user=None)
    carts.add_line(token=cart.token, user=None, sku_code=shop.shirt_l.code, quantity=1)
    shop.shirt.is_active = False
    shop.shirt.save()

    assert _lines(cart.token)[shop.shirt_l.code].flag == "product_inactive"


def test_prices_follow_the_price_list_at_every_read(shop):
    cart = carts.create_cart(user=None)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=2)
    Price.objects.filter(sku=shop.tee_s).update(sale_price=Decimal("39.90"))

    line = _lines(cart.token)[shop.tee_s.code]

    assert line.unit_price == Decimal("39.90")
    assert line.line_total == Decimal("79.80")


def test_merge_carts_adds_guest_lines_to_the_users_cart_capped_at_twenty(shop, shopper):
    mine = carts.create_cart(user=shopper)
    carts.add_line(token=mine.token, user=shopper, sku_code=shop.tee_s.code, quantity=15)
    guest = carts.create_cart(user=None, referral_store_code="sh-1")
    carts.add_line(token=guest.token, user=None, sku_code=shop.tee_s.code, quantity=10)
    carts.add_line(token=guest.token, user=None, sku_code=shop.shirt_l.code, quantity=2)

    token = carts.merge_carts(user=shopper, session_cart_token=guest.token)

    assert token == mine.token
    quantities = {line.sku_id: line.quantity for line in CartLine.objects.filter(cart=mine)}
    assert quantities == {shop.tee_s.pk: 20, shop.shirt_l.pk: 2}
    guest.refresh_from_db()
    mine.refresh_from_db()
    assert guest.state == CartState.MERGED
    assert mine.referral_store_code == "sh-1"
    with pytest.raises(CartClosedError):
        carts.add_line(token=guest.token, user=None, sku_code=shop.tee_s.code, quantity=1)


def test_merge_carts_adopts_the_guest_cart_when_the_user_has_none(shop, shopper):
    guest = carts.create_cart(user=None)

    token = carts.merge_carts(user=shopper, session_cart_token=guest.token)

    assert token == guest.token
    assert Cart.objects.get(pk=guest.pk).user_id == shopper.pk
    with pytest.raises(CartNotFoundError):
        selectors.get_cart(token=token, user=None)


def test_merge_carts_never_touches_another_users_cart(shop, shopper, other_shopper):
    theirs = carts.create_cart(user=other_shopper)
    carts.add_line(token=theirs.token, user=other_shopper, sku_code=shop.tee_s.code, quantity=1)

    token = carts.merge_carts(user=shopper, session_cart_token=theirs.token)

    assert token is None
    theirs.refresh_from_db()
    assert theirs.user_id == other_shopper.pk
    assert theirs.state == CartState.OPEN


def test_merge_carts_without_any_cart_returns_none(shop, shopper):
    assert carts.merge_carts(user=shopper, session_cart_token=None) is None
    assert carts.merge_carts(user=shopper, session_cart_token="junk") is None


def test_a_cart_holds_at_most_max_lines(shop, monkeypatch):
    monkeypatch.setattr(carts, "MAX_LINES", 2)
    cart = carts.create_cart(user=None)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=1)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_m.code, quantity=1)

    with pytest.raises(TooManyLinesError):
        carts.add_line(token=cart.token, user=None, sku_code=shop.shirt_l.code, quantity=1)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=1)  # merge ok


def test_address_book_save_edit_default_and_delete(shopper, other_shopper):
    first = addresses.save_address(user=shopper, data=ADDRESS)
    second = addresses.save_address(
        user=shopper, data={**ADDRESS, "street": "淮海中路 1 号", "is_default": True}
    )
    addresses.save_address(user=shopper, data={**ADDRESS, "city": "杭州"}, address_id=first.pk)

    listed = selectors.list_addresses(user=shopper)

    assert [a.pk for a in listed] == [second.pk, first.pk]
    assert listed[1].city == "杭州"
    assert not listed[1].is_default
    with pytest.raises(AddressNotFoundError):
        addresses.delete_address(user=other_shopper, address_id=first.pk)
    addresses.delete_address(user=shopper, address_id=second.pk)
    assert [(a.pk, a.is_default) for a in selectors.list_addresses(user=shopper)] == [
        (first.pk, True)
    ]


def test_address_book_refuses_a_bad_phone(shopper):
    with pytest.raises(InvalidAddressError) as refused:
        addresses.save_address(user=shopper, data={**ADDRESS, "phone": "555"})

    assert set(refused.value.details["errors"]) == {"phone"}
