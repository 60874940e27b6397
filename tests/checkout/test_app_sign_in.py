"""An app signs a shopper in with a bearer token and shops as them (``/api/v1/account``).

Every call goes through ``Client(enforce_csrf_checks=True)`` without cookies: a token
needs no CSRF token, and a browser's session is not involved.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from omnimall.checkout.models import Cart, CartState
from omnimall.core import clock, shopper_tokens
from omnimall.core import tasks as core_tasks
from omnimall.core.actors import Actor
from omnimall.core.models import AuditEntry, ShopperToken
from omnimall.members.services.identity import enrol_member
from omnimall.orders.models import Order
from tests.checkout.conftest import ADDRESS, CONTACT
from tests.members.test_points_factories import give_points

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456!"


@pytest.fixture
def lilei(db):
    return get_user_model().objects.create_user(
        username="lilei@example.com", email="lilei@example.com", password=PASSWORD
    )


def app() -> Client:
    return Client(enforce_csrf_checks=True)


def call(method, path, body=None, token=None, client=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = json.dumps(body) if body is not None else ""
    return (client or app()).generic(
        method.upper(), path, data, content_type="application/json", **headers
    )


def sign_in(email="lilei@example.com", password=PASSWORD, **more):
    return call("post", "/api/v1/account/tokens", {"email": email, "password": password, **more})


def test_an_app_signs_in_and_shops_checks_out_and_cancels_as_the_shopper(shop, lilei):
    guest = call("post", "/api/v1/carts").json()["id"]
    call("post", f"/api/v1/carts/{guest}/lines", {"sku": shop.tee_s.code, "quantity": 2})

    signed_in = sign_in(email="  LiLei@Example.com ", device="iPhone 16", cart=guest)

    assert signed_in.status_code == 201, signed_in.content
    body = signed_in.json()
    token = body["token"]
    assert body["token_type"] == "Bearer"
    assert body["device"] == "iPhone 16"
    assert body["account"] == {"email": "lilei@example.com", "name": "", "member": None}
    assert body["cart"] == guest  # the guest cart is now the shopper's
    assert Cart.objects.get(token=guest).user_id == lilei.pk
    assert "set-cookie" not in {k.lower() for k in signed_in.headers}  # no session for apps

    added = call(
        "post", f"/api/v1/carts/{guest}/lines", {"sku": shop.shirt_l.code, "quantity": 1}, token
    )
    stranger = call("get", f"/api/v1/carts/{guest}")  # the cart is the shopper's now
    placed = call(
        "post",
        f"/api/v1/carts/{guest}/checkout",
        {"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS},
        token,
    )
    number = placed.json()["order"]["number"]
    history = call("get", "/api/v1/orders", token=token)
    seen = call("get", f"/api/v1/orders/{number}", token=token)
    cancelled = call("post", f"/api/v1/orders/{number}/cancel", {"reason": "changed mind"}, token)

    assert added.status_code == 201, added.content
    assert stranger.status_code == 404
    assert placed.status_code == 201, placed.content
    assert Order.objects.get(number=number).user_id == lilei.pk
    assert [o["number"] for o in history.json()["results"]] == [number]
    assert seen.status_code == 200
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["state"] == "cancelled"


def test_an_app_keeps_its_guest_orders_placed_with_the_accounts_email(shop, lilei):
    placed = []
    for email in (CONTACT["email"], "hanmeimei@example.com"):
        cart = call("post", "/api/v1/carts").json()["id"]
        call("post", f"/api/v1/carts/{cart}/lines", {"sku": shop.tee_s.code, "quantity": 1})
        body = {
            "contact": {**CONTACT, "email": email},
            "delivery_method": "ship",
            "address": ADDRESS,
        }
        order = call("post", f"/api/v1/carts/{cart}/checkout", body).json()["order"]
        placed.append({"number": order["number"], "token": order["token"]})
    mine, someone_elses = placed

    wrong_token = sign_in(guest_orders=[{**mine, "token": "x" * 40}])
    signed_in = sign_in(guest_orders=[mine, someone_elses])
    history = call("get", "/api/v1/orders", token=signed_in.json()["token"]).json()

    assert wrong_token.json()["kept_orders"] == []
    assert signed_in.status_code == 201, signed_in.content
    assert signed_in.json()["kept_orders"] == [mine["number"]]
    assert [o["number"] for o in history["results"]] == [mine["number"]]
    assert Order.objects.get(number=someone_elses["number"]).user_id is None
    assert sign_in(guest_orders=[mine]).json()["kept_orders"] == []  # kept once
    assert sign_in(guest_orders=[{"number": "1"}]).status_code == 422


def test_a_guest_cart_joins_the_shoppers_own_cart(shop, lilei):
    token = sign_in().json()["token"]
    own = call("post", "/api/v1/carts", token=token).json()["id"]
    call("post", f"/api/v1/carts/{own}/lines", {"sku": shop.tee_s.code, "quantity": 1}, token)
    guest = call("post", "/api/v1/carts").json()["id"]
    call("post", f"/api/v1/carts/{guest}/lines", {"sku": shop.tee_s.code, "quantity": 2})
    call("post", f"/api/v1/carts/{guest}/lines", {"sku": shop.shirt_l.code, "quantity": 1})

    again = sign_in(device="iPad", cart=guest)
    cart = call("get", f"/api/v1/carts/{own}", token=again.json()["token"]).json()

    assert again.json()["cart"] == own
    assert Cart.objects.get(token=guest).state == CartState.MERGED
    assert sorted((line["sku"], line["quantity"]) for line in cart["lines"]) == [
        (shop.tee_s.code, 3),
        (shop.shirt_l.code, 1),
    ]


def test_a_member_sees_card_tier_and_points_and_may_pay_with_them(shop, lilei):
    member = enrol_member(phone="+8613900139001", actor=Actor.system("test"), user_id=lilei.pk)
    give_points(member, 20_000, "test:gift", document="gift", actor=Actor.system("test"))
    token = sign_in().json()["token"]
    cart = call("post", "/api/v1/carts", token=token).json()["id"]
    call("post", f"/api/v1/carts/{cart}/lines", {"sku": shop.shirt_l.code, "quantity": 1}, token)

    account = call("get", "/api/v1/account", token=token).json()
    offer = call("get", f"/api/v1/carts/{cart}", token=token).json()["points"]

    assert account["member"]["card_number"] == member.card_number
    assert account["member"]["points_available"] == 20_000
    assert account["member"]["tier"]
    assert offer["available"] == 20_000  # points count for an app's shopper as for a browser's


@pytest.mark.parametrize("cart", ["../x", "unknown-cart-token", "x" * 64])
def test_a_cart_that_is_not_a_guest_cart_is_left_alone_at_sign_in(lilei, cart):
    signed_in = sign_in(cart=cart)

    assert signed_in.status_code == 201
    assert signed_in.json()["cart"] is None


def test_wrong_password_and_unknown_address_get_one_answer_then_the_brake(lilei):
    wrong = sign_in(password="not-it")
    unknown = sign_in(email="nobody@example.com")
    for _ in range(8):
        sign_in(password="still-not-it")

    braked = sign_in()  # the right password, after ten failures for the address

    for refused in (wrong, unknown):
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_credentials"
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert braked.status_code == 429
    assert braked.json()["error"]["code"] == "too_many_attempts"
    assert not ShopperToken.objects.exists()


def test_a_deactivated_account_cannot_sign_in(lilei):
    lilei.is_active = False
    lilei.save()

    refused = sign_in()

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "lilei@example.com"},
        {"email": "", "password": PASSWORD},
        {"email": "lilei@example.com", "password": PASSWORD, "remember": True},
        {"email": "lilei@example.com", "password": PASSWORD, "device": "x" * 81},
    ],
)
def test_a_malformed_sign_in_is_422(lilei, body):
    refused = call("post", "/api/v1/account/tokens", body)

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "validation_failed"


def _lapse(token):
    ShopperToken.objects.update(expires_at=clock.now() - timedelta(seconds=1))


def _change_password(token):
    user = get_user_model().objects.get()
    user.set_password("a-new-secret-42")
    user.save()


def _deactivate(token):
    get_user_model().objects.update(is_active=False)


def _sign_out(token):
    assert call("delete", "/api/v1/account/tokens/current", token=token).status_code == 204


def _tamper(token):
    ShopperToken.objects.update(hashed_secret="0" * 64)


@pytest.mark.parametrize("spoil", [_lapse, _change_password, _deactivate, _sign_out, _tamper])
def test_a_token_that_no_longer_works_is_401_never_a_guest(lilei, spoil):
    token = sign_in().json()["token"]
    assert call("get", "/api/v1/account", token=token).status_code == 200

    spoil(token)
    account = call("get", "/api/v1/account", token=token)
    new_cart = call("post", "/api/v1/carts", token=token)

    for refused in (account, new_cart):
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_token"
        assert refused["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert not Cart.objects.exists()  # not made as a guest's either


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer nonsense", "Bearer a.b", "bearer x.y.z", "Bearer ab\x00cd.efg"]
)
def test_a_malformed_bearer_token_is_401(header):
    refused = app().get("/api/v1/account", HTTP_AUTHORIZATION=header)

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_token"


def test_without_a_token_the_account_is_401_and_other_schemes_are_a_guest(shop):
    anonymous = app().get("/api/v1/account")
    basic = app().generic("POST", "/api/v1/carts", HTTP_AUTHORIZATION="Basic c3RhZ2luZzpwdw==")

    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_signed_in"
    assert anonymous["WWW-Authenticate"] == "Bearer"
    assert basic.status_code == 201  # a proxy's Basic auth is not ours to judge
    assert Cart.objects.get().user_id is None


def test_the_shopper_lists_their_apps_and_signs_one_out(lilei):
    phone = sign_in(device="iPhone 16").json()
    tablet = sign_in(device="iPad").json()
    other = get_user_model().objects.create_user(
        username="han@example.com", email="han@example.com", password=PASSWORD
    )
    others = shopper_tokens.issue(user=other, device="Pixel").record

    listed = call("get", "/api/v1/account/tokens", token=phone["token"]).json()
    foreign = call("delete", f"/api/v1/account/tokens/{others.pk}", token=phone["token"])
    gone = call("delete", f"/api/v1/account/tokens/{tablet['id']}", token=phone["token"])

    assert [(t["device"], t["current"]) for t in listed] == [("iPad", False), ("iPhone 16", True)]
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "token_not_found"
    assert gone.status_code == 204
    assert call("get", "/api/v1/account", token=tablet["token"]).status_code == 401
    assert call("get", "/api/v1/account", token=phone["token"]).status_code == 200
    assert ShopperToken.objects.filter(pk=others.pk).exists()
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("account.app_signed_in") == 3
    assert actions.count("account.app_signed_out") == 1


def test_a_token_lapses_a_set_time_after_its_last_use(lilei, settings):
    settings.SHOPPER_TOKEN_DAYS = 30
    token = sign_in().json()["token"]
    start = clock.now()

    with time_machine.travel(start + timedelta(days=29)):
        assert call("get", "/api/v1/account", token=token).status_code == 200  # moves it on
    with time_machine.travel(start + timedelta(days=58)):
        assert call("get", "/api/v1/account", token=token).status_code == 200
    with time_machine.travel(start + timedelta(days=58, minutes=30)):
        call("get", "/api/v1/account", token=token)  # within the hour: no write
    record = ShopperToken.objects.get()
    with time_machine.travel(start + timedelta(days=89)):
        lapsed = call("get", "/api/v1/account", token=token)
        purged = core_tasks.purge_shopper_tokens_task()

    assert record.last_used_at - start >= timedelta(days=58)
    assert record.last_used_at - start < timedelta(days=58, minutes=1)
    assert lapsed.status_code == 401
    assert purged == 1
    assert not ShopperToken.objects.exists()


def test_customer_service_signs_a_lost_phone_out_in_the_back_office(lilei):
    token = sign_in(device="Lost phone").json()["token"]
    record = ShopperToken.objects.get()
    staff = get_user_model().objects.create_user(username="cs", password=PASSWORD, is_staff=True)
    staff.groups.add(Group.objects.get(name="customer service"))
    desk = Client()
    desk.force_login(staff)

    listed = desk.get("/admin/core/shoppertoken/?q=lilei@example.com")
    deleted = desk.post(f"/admin/core/shoppertoken/{record.pk}/delete/", {"post": "yes"})

    assert listed.status_code == 200
    assert "Lost phone" in listed.content.decode()
    assert token.split(".")[1] not in listed.content.decode()  # the secret is never shown
    assert deleted.status_code == 302
    assert call("get", "/api/v1/account", token=token).status_code == 401
    entry = AuditEntry.objects.get(action="account.app_signed_out")
    assert entry.actor_label.startswith("cs") or entry.actor_user_id == staff.pk


def test_the_account_page_lists_the_apps_and_signs_one_out(lilei):
    phone = sign_in(device="iPhone 16").json()
    other = get_user_model().objects.create_user(username="han@example.com", password=PASSWORD)
    others = shopper_tokens.issue(user=other, device="Pixel").record
    browser = Client()
    browser.force_login(lilei)

    page = browser.get("/account/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    foreign = browser.post(f"/account/apps/{others.pk}/sign-out/")
    signed_out = browser.post(f"/account/apps/{phone['id']}/sign-out/", follow=True)

    assert "Apps signed in" in page
    assert "iPhone 16" in page
    assert "Pixel" not in page
    assert foreign.status_code == 404
    assert "iPhone 16 is signed out." in signed_out.content.decode()
    assert call("get", "/api/v1/account", token=phone["token"]).status_code == 401
    assert ShopperToken.objects.filter(pk=others.pk).exists()
    assert "Apps signed in" not in browser.get("/account/").content.decode()


ADDRESS_BODY = dict(ADDRESS)


def test_an_app_keeps_the_shoppers_address_book(lilei):
    token = sign_in().json()["token"]
    other = get_user_model().objects.create_user(username="han@example.com", password=PASSWORD)
    theirs = call("post", "/api/v1/account/addresses", ADDRESS_BODY, sign_in_as(other)).json()["id"]

    first = call("post", "/api/v1/account/addresses", ADDRESS_BODY, token)
    second = call(
        "post",
        "/api/v1/account/addresses",
        {**ADDRESS_BODY, "street": "淮海中路 1 号", "is_default": True},
        token,
    )
    edited = call(
        "put",
        f"/api/v1/account/addresses/{first.json()['id']}",
        {**ADDRESS_BODY, "street": "南京东路 200 号"},
        token,
    )
    listed = call("get", "/api/v1/account/addresses", token=token).json()
    foreign = call("delete", f"/api/v1/account/addresses/{theirs}", token=token)
    huge = call("delete", "/api/v1/account/addresses/99999999999999999999", token=token)
    bad = call("post", "/api/v1/account/addresses", {**ADDRESS_BODY, "phone": "12"}, token)
    gone = call("delete", f"/api/v1/account/addresses/{second.json()['id']}", token=token)
    left = call("get", "/api/v1/account/addresses", token=token).json()
    guest = call("get", "/api/v1/account/addresses")

    assert first.status_code == second.status_code == 201
    assert first.json()["is_default"] is True  # the first address is the default
    assert edited.json()["street"] == "南京东路 200 号"
    assert [(a["street"], a["is_default"]) for a in listed] == [
        ("淮海中路 1 号", True),
        ("南京东路 200 号", False),
    ]
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "address_not_found"
    assert huge.status_code in (404, 422)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_address"
    assert gone.status_code == 204
    assert [(a["street"], a["is_default"]) for a in left] == [("南京东路 200 号", True)]
    assert guest.status_code == 401


@pytest.mark.parametrize("flag", [0, 1, "true", "yes", None])
def test_an_address_is_made_the_default_by_a_json_boolean_only(lilei, flag):
    """``is_default: 1`` and ``"yes"`` were read as booleans, though the schema says
    boolean (found by fuzzing the API): 422, and no address is saved."""
    token = sign_in().json()["token"]

    refused = call("post", "/api/v1/account/addresses", {**ADDRESS_BODY, "is_default": flag}, token)

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "validation_failed"
    assert refused.json()["error"]["details"]["errors"][0]["loc"][-1] == "is_default"
    assert call("get", "/api/v1/account/addresses", token=token).json() == []


def sign_in_as(user):
    return shopper_tokens.issue(user=user, device="test").token


def test_a_device_name_keeps_only_printable_text_and_a_nul_is_refused(lilei):
    signed_in = sign_in(device="Li's\x07 iPhone\n 16\t")
    nul = sign_in(device="Li's\x00 iPhone")

    assert signed_in.status_code == 201
    assert signed_in.json()["device"] == "Li's iPhone 16"
    assert nul.status_code == 400  # PostgreSQL cannot store a NUL: refused with the body
    assert nul.json()["error"]["code"] == "bad_request"
