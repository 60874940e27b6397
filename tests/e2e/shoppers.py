"""Shoppers for the browser tests: an account (with a saved address if asked), and
signing it in on the storefront's sign-in page."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model

from omnimall.checkout.services.addresses import save_address

HOME_ADDRESS = {"name": "Lin Mei", "phone": "13800138000", "province": "上海市",
                "city": "上海市", "district": "黄浦区", "street": "南京东路 1 号"}  # fmt: skip


def make_shopper(email: str, password: str, *, with_address: bool = False, **fields: object):
    """An account that signs in with its e-mail address, as the sign-up page makes one."""
    user = get_user_model().objects.create_user(
        username=email, email=email, password=password, **fields
    )
    if with_address:
        save_address(user=user, data=dict(HOME_ADDRESS))
    return user


def sign_in(page, base: str, *, email: str, password: str) -> None:
    """Sign in on the storefront's page and land on the account overview."""
    page.goto(base + "/account/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account/$"))
