"""The brand's own name, not the platform's, on every shopper page (``OMNIMALL_SHOP_NAME``)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = [
    ("storefront:home", ()),
    ("storefront:search", ()),
    ("storefront:stores", ()),
    ("storefront:help", ("delivery",)),
    ("checkout:cart", ()),
    ("account:login", ()),
    ("account:signup", ()),
    ("account:password_reset", ()),
    ("account:order_lookup", ()),
]


@pytest.fixture
def lumen(settings):
    settings.SHOP_NAME = "Lumen Atelier"
    settings.SHOP_NAME_ZH = "流明"


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_a_page_in_english_names_the_shop_and_never_the_platform(client, shop, lumen, name, args):
    body = client.get(reverse(name, args=args), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Lumen Atelier" in body
    assert "omnimall" not in body.lower()


def test_category_and_product_pages_carry_the_name_in_title_and_description(client, shop, lumen):
    category = client.get(reverse("storefront:category", args=["shoes"]), HTTP_ACCEPT_LANGUAGE="en")
    product = client.get(
        reverse("storefront:product", args=[shop.tee.slug]), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert "Shoes: 1 product at Lumen Atelier." in category.content.decode()
    assert "| Lumen Atelier</title>" in product.content.decode()
    assert "omnimall" not in (category.content + product.content).decode().lower()


def test_chinese_pages_use_the_chinese_name(client, shop, lumen):
    body = client.get(reverse("storefront:home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert '<a class="logo" href="/">流明</a>' in body
    assert "Lumen Atelier" not in body


def test_without_a_chinese_name_chinese_pages_use_the_name(client, shop, settings):
    settings.SHOP_NAME = "Lumen Atelier"
    settings.SHOP_NAME_ZH = ""

    body = client.get(reverse("storefront:home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert '<a class="logo" href="/">Lumen Atelier</a>' in body


def test_the_default_name_is_omnimall(client, shop):
    body = client.get(reverse("storefront:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<a class="logo" href="/">omnimall</a>' in body


def test_the_welcome_after_signing_up_names_the_shop(client, lumen):
    client.post(
        "/account/signup/",
        {
            "name": "Lin Mei",
            "email": "mei@example.com",
            "phone": "13800138000",
            "password1": "bright-lantern-5521",
            "password2": "bright-lantern-5521",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    home = client.get(reverse("account:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Welcome to Lumen Atelier! Your account is ready." in home
