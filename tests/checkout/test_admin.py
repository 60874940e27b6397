"""The carts admin is read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from omnimall.checkout.services import carts

pytestmark = pytest.mark.django_db


def test_superuser_sees_a_cart_read_only(shop, client):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456!")
    cart = carts.create_cart(user=None)
    carts.add_line(token=cart.token, user=None, sku_code=shop.tee_s.code, quantity=2)
    client.force_login(admin)

    listing = client.get("/admin/checkout/cart/")
    page = client.get(f"/admin/checkout/cart/{cart.pk}/change/")
    add = client.get("/admin/checkout/cart/add/")

    assert listing.status_code == 200
    assert cart.token[:8] in listing.content.decode()
    assert page.status_code == 200
    assert shop.tee_s.code in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert add.status_code == 403
