"""Signing up, in and out, and resetting a password by email, as a browser does it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from omnimall.checkout.models import Cart, CartLine, CartState
from omnimall.checkout.services import carts
from omnimall.core import throttle

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
PASSWORD = "quiet-harbour-1987"


def _signup(client, **overrides):
    data = {
        "email": "Mei.Lin@Example.com",
        "name": "Lin Mei",
        "phone": "13800138000",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }
    return client.post("/account/signup/", data, **EN)


def _make_user(email="shopper@example.com", password=PASSWORD, name="Wang Fang"):
    return get_user_model().objects.create_user(
        username=email, email=email, password=password, first_name=name
    )


def _signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def test_signup_creates_lowercase_account_signs_in_and_keeps_phone_when_valid(client):
    response = _signup(client)

    assert response.status_code == 302
    assert response["Location"] == "/account/"
    user = get_user_model().objects.get()
    assert user.username == "mei.lin@example.com"
    assert user.email == "mei.lin@example.com"
    assert user.first_name == "Lin Mei"
    assert user.check_password(PASSWORD)
    assert _signed_in_user_id(client) == str(user.pk)
    assert client.session["omnimall_shopper_phone"] == "13800138000"


def test_signup_refuses_duplicate_email_when_only_case_differs(client):
    _make_user("mei.lin@example.com")

    response = _signup(client, email="MEI.LIN@example.COM")

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert get_user_model().objects.count() == 1
    assert _signed_in_user_id(client) is None


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"password1": "123", "password2": "123"}, "too short"),
        ({"password1": "password", "password2": "password"}, "too common"),
        ({"password2": "something-else-2024"}, "do not match"),
        ({"phone": "2380013800"}, "mobile number"),
        ({"email": "not-an-email"}, "valid email"),
        ({"name": "   "}, "required"),
    ],
)
def test_signup_shows_form_error_and_creates_nothing_when_input_bad(client, overrides, field_error):
    response = _signup(client, **overrides)

    assert response.status_code == 200
    assert field_error in response.content.decode()
    assert not get_user_model().objects.exists()


def test_signup_follows_next_only_when_it_stays_on_this_site(client):
    safe = _signup(client, next="/orders/1/")
    client.logout()
    unsafe = _signup(client, email="other@example.com", next="https://evil.example/steal")

    assert safe["Location"] == "/orders/1/"
    assert unsafe["Location"] == "/account/"


def test_login_page_asks_for_an_email_address(client):
    page = client.get("/account/login/", **EN).content.decode()

    (field,) = re.findall(r'<input[^>]*name="username"[^>]*>', page)
    assert re.findall(r'\btype="([^"]*)"', field) == ["email"]  # one type, the email one
    assert 'autocomplete="email"' in field


def test_login_signs_in_by_email_in_any_case_and_redirects_home(client):
    user = _make_user()

    response = client.post(
        "/account/login/", {"username": "Shopper@Example.com", "password": PASSWORD}, **EN
    )

    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert _signed_in_user_id(client) == str(user.pk)


def test_login_shows_one_generic_error_when_password_or_email_wrong(client):
    _make_user()

    wrong_password = client.post(
        "/account/login/", {"username": "shopper@example.com", "password": "nope"}, **EN
    )
    unknown_email = client.post(
        "/account/login/", {"username": "nobody@example.com", "password": "nope"}, **EN
    )

    message = "The email address or password is not right."
    assert message in wrong_password.content.decode()
    assert message in unknown_email.content.decode()
    assert _signed_in_user_id(client) is None


def test_login_refuses_even_right_password_when_too_many_failures(client):
    _make_user()
    for _attempt in range(throttle.LIMIT):
        client.post("/account/login/", {"username": "shopper@example.com", "password": "x"})

    response = client.post(
        "/account/login/", {"username": "shopper@example.com", "password": PASSWORD}, **EN
    )

    assert "Too many attempts" in response.content.decode()
    assert _signed_in_user_id(client) is None


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/account/orders/", "/account/orders/"),
        ("https://evil.example/", "/account/"),
        ("//evil.example/", "/account/"),
    ],
)
def test_login_redirects_to_next_only_when_safe(client, next_url, expected):
    _make_user()

    response = client.post(
        "/account/login/",
        {"username": "shopper@example.com", "password": PASSWORD, "next": next_url},
    )

    assert response["Location"] == expected


def test_login_page_is_private_and_has_csrf_token(client):
    response = client.get("/account/login/?next=/account/orders/", **EN)

    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "csrfmiddlewaretoken" in response.content.decode()
    assert 'name="next" value="/account/orders/"' in response.content.decode()


def test_account_pages_redirect_to_login_when_signed_out(client):
    for url in ("/account/", "/account/orders/", "/account/addresses/"):
        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"] == f"/account/login/?next={url}"


def test_logout_needs_post_and_signs_out(client):
    user = _make_user()
    client.force_login(user)

    by_get = client.get("/account/logout/")
    by_post = client.post("/account/logout/")

    assert by_get.status_code == 405
    assert by_post.status_code == 302
    assert _signed_in_user_id(client) is None


def test_password_reset_emails_a_link_that_sets_a_new_password(client):
    _make_user()
    page = client.get("/account/password-reset/", **EN)

    response = client.post("/account/password-reset/", {"email": "SHOPPER@example.com"}, **EN)

    assert "Email me a link" in page.content.decode()
    assert "private" in page["Cache-Control"]
    assert response.status_code == 302
    assert response["Location"] == "/account/password-reset/sent/"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["shopper@example.com"]
    link = re.search(r"https?://testserver(/account/password-reset/\S+/)", email.body).group(1)
    [(html, mime)] = email.alternatives
    assert mime == "text/html"
    assert f'href="http://testserver{link}"' in html
    assert "Hello Wang Fang," in html
    form_page = client.get(link, follow=True, **EN)
    assert "Choose a new password" in form_page.content.decode()
    new_password = "bright-lantern-5521"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done["Location"] == "/account/password-reset/done/"
    assert client.login(username="shopper@example.com", password=new_password)
    reused = client.get(link, follow=True, **EN)
    assert "This link no longer works" in reused.content.decode()


def test_password_reset_says_the_same_and_sends_nothing_when_address_unknown(client):
    response = client.post("/account/password-reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == "/account/password-reset/sent/"
    assert mail.outbox == []


def _guest_cart_with_line(client, sku):
    cart = Cart.objects.create(token="guest-token-0001")
    CartLine.objects.create(cart=cart, sku=sku, quantity=2)
    session = client.session
    session[carts.CART_SESSION_KEY] = cart.token
    session.save()
    return cart


def test_login_merges_guest_cart_into_shoppers_open_cart(client, shop):
    user = _make_user()
    sku_a, sku_b = shop.tee.skus.order_by("pk")[:2]
    own = Cart.objects.create(token="own-token-0001", user=user)
    CartLine.objects.create(cart=own, sku=sku_a, quantity=1)
    guest = _guest_cart_with_line(client, sku_b)

    client.post("/account/login/", {"username": "shopper@example.com", "password": PASSWORD})

    guest.refresh_from_db()
    assert guest.state == CartState.MERGED
    assert client.session[carts.CART_SESSION_KEY] == own.token
    assert sorted(own.lines.values_list("sku_id", "quantity")) == sorted(
        [(sku_a.pk, 1), (sku_b.pk, 2)]
    )


def test_signup_makes_guest_cart_the_new_shoppers_cart(client, shop):
    guest = _guest_cart_with_line(client, shop.tee.skus.first())

    _signup(client)

    guest.refresh_from_db()
    assert guest.user == get_user_model().objects.get()
    assert client.session[carts.CART_SESSION_KEY] == guest.token
