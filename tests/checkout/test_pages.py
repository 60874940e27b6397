"""Storefront pages: add to bag from the product page, the bag, checkout for both methods."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from omnimall.checkout.models import Address, Cart, CartLine, CartState
from omnimall.checkout.services import addresses, carts
from omnimall.orders.models import Order
from omnimall.payments.models import SandboxTrade
from tests.checkout.conftest import ADDRESS, CONTACT

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def add(client, sku, quantity=1, **extra):
    return client.post("/cart/add/", {"sku": sku.code, "quantity": quantity}, **extra)


def session_cart(client) -> Cart:
    return Cart.objects.get(token=client.session[carts.CART_SESSION_KEY])


def checkout_form(**fields):
    data = {
        "name": CONTACT["name"],
        "email": CONTACT["email"],
        "phone": CONTACT["phone"],
        "delivery_method": "ship",
        "province": ADDRESS["province"],
        "city": ADDRESS["city"],
        "district": ADDRESS["district"],
        "street": ADDRESS["street"],
        "postal_code": ADDRESS["postal_code"],
        "action": "pay",
    }
    data.update(fields)
    return data


def test_availability_fragment_carries_the_add_to_bag_form(shop, client):
    response = client.get(f"/p/{shop.tee.slug}/availability/?sku={shop.tee_s.code}", **HX)

    html = response.content.decode()
    assert 'action="/cart/add/"' in html
    assert "csrfmiddlewaretoken" in html
    assert f'name="sku" value="{shop.tee_s.code}"' in html


def test_the_cached_product_page_has_no_csrf_token(shop, client):
    response = client.get(f"/p/{shop.tee.slug}/")

    assert response.status_code == 200
    assert "csrfmiddlewaretoken" not in response.content.decode()
    assert "/cart/summary/" in response.content.decode()


def test_sold_out_sku_shows_a_disabled_button(shop, client):
    response = client.get(f"/p/{shop.tee.slug}/availability/?sku={shop.tee_white.code}", **HX)

    assert "disabled" in response.content.decode()


def test_add_to_bag_without_javascript_redirects_to_the_bag(shop, client):
    response = add(client, shop.tee_s, 2)
    page = client.get("/cart/")

    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    html = page.content.decode()
    assert shop.tee_s.code in html
    assert "Cotton Tee" in html
    assert "¥98" in html
    assert CartLine.objects.get(cart=session_cart(client)).quantity == 2


def test_add_to_bag_with_htmx_answers_the_form_and_triggers_the_badge(shop, client):
    response = add(client, shop.tee_s, 1, **HX)
    summary = client.get("/cart/summary/")

    assert response.status_code == 200
    assert response["HX-Trigger"] == "cart-changed"
    assert "Added to your bag" in response.content.decode()
    assert 'class="cart-count"' in summary.content.decode()
    assert ">1</span>" in summary.content.decode()


def test_add_to_bag_over_twenty_shows_an_error(shop, client):
    add(client, shop.tee_s, 15)

    response = add(client, shop.tee_s, 10, **HX)

    assert "at most 20" in response.content.decode()
    assert "HX-Trigger" not in response


def test_bag_lines_update_and_remove(shop, client):
    add(client, shop.tee_s, 1)
    line = CartLine.objects.get()

    client.post(f"/cart/lines/{line.pk}/", {"quantity": 3})
    line.refresh_from_db()
    removed = client.post(f"/cart/lines/{line.pk}/", {"quantity": 3, "remove": "1"}, **HX)

    assert line.quantity == 3
    assert removed.status_code == 200
    assert "Your bag is empty" in removed.content.decode()
    assert not CartLine.objects.exists()


def test_bag_shows_a_flagged_line_outside_the_total(shop, client):
    add(client, shop.tee_s, 1)
    add(client, shop.shirt_l, 1)
    shop.shirt_l.is_active = False
    shop.shirt_l.save()

    html = client.get("/cart/").content.decode()

    assert "No longer available" in html
    assert 'data-flag="sku_inactive"' in html
    assert "cannot be bought right now" in html


def test_checkout_page_renders_both_methods_and_the_store_picker(shop, client):
    add(client, shop.tee_s, 2)

    page = client.get("/checkout/")
    stores = client.get("/checkout/stores/?store_city=Beijing")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="ship"' in html
    assert 'value="pickup"' in html
    assert 'name="province"' in html
    assert "Store sh-1" in html
    store_codes = [c for c in ("bj-1", "sh-1") if f'value="{c}"' in stores.content.decode()]
    assert store_codes == ["bj-1", "sh-1"]
    assert stores.content.decode().index("bj-1") < stores.content.decode().index("sh-1")


def test_store_picker_does_not_choose_a_store_in_another_city_for_the_shopper(shop, client):
    add(client, shop.tee_s, 5)  # Shanghai's store has 3: only Beijing's holds the bag

    far = client.get("/checkout/stores/?store_city=Shanghai", HTTP_ACCEPT_LANGUAGE="en")
    near = client.get("/checkout/stores/?store_city=Beijing", HTTP_ACCEPT_LANGUAGE="en")

    far_html, near_html = far.content.decode(), near.content.decode()
    assert 'value="bj-1"' in far_html
    assert "No store near Shanghai holds everything in your bag today" in far_html
    assert "checked" not in far_html  # the shopper chooses: 1,000 km is not "near"
    assert "No store near" not in near_html
    assert re.search(r'value="bj-1" checked', near_html)


@pytest.mark.parametrize(
    ("lang", "cities"), [("en", ("Beijing", "Shanghai")), ("zh-CN", ("北京", "上海"))]
)
def test_store_picker_names_each_stores_city_in_the_shoppers_language(shop, client, lang, cities):
    add(client, shop.tee_s, 1)

    html = client.get("/checkout/stores/?store_city=Beijing", HTTP_ACCEPT_LANGUAGE=lang)

    page = html.content.decode()
    assert f"{cities[0]} · bj-1 road 1" in page
    assert f"{cities[1]} · sh-1 road 1" in page


def test_store_picker_chooses_nothing_when_the_shoppers_city_is_unknown(shop, client):
    add(client, shop.tee_s, 1)

    unknown = client.get("/checkout/stores/?store_city=", HTTP_ACCEPT_LANGUAGE="en")
    page = client.get("/checkout/", HTTP_ACCEPT_LANGUAGE="en")  # no saved address: no city
    chosen = client.get("/checkout/stores/?store_city=&store=sh-1", HTTP_ACCEPT_LANGUAGE="en")

    assert 'value="bj-1"' in unknown.content.decode()
    assert "checked" not in unknown.content.decode()
    assert not re.search(r'name="store" value="[^"]+" checked', page.content.decode())
    assert re.search(r'value="sh-1" checked', chosen.content.decode())


@pytest.mark.parametrize(
    ("sku", "quantity", "message"),
    [
        ("X" * 65, "1", "Sorry, we could not find this item."),
        ("NO\x00SUCH", "1", "Sorry, we could not find this item."),
        ("NO-SUCH-SKU", "1", "Sorry, we could not find this item."),
        (None, "21", "Choose a quantity from 1 to 20."),
    ],
)
def test_adding_a_bad_sku_or_quantity_says_which(shop, client, sku, quantity, message):
    response = client.post(
        "/cart/add/",
        {"sku": sku or shop.tee_s.code, "quantity": quantity},
        HTTP_ACCEPT_LANGUAGE="en",
        **HX,
    )

    assert message in response.content.decode()
    assert not CartLine.objects.exists()


def test_checkout_with_an_empty_bag_goes_to_the_bag(shop, client):
    assert client.get("/checkout/")["Location"] == "/cart/"


def test_checkout_delivery_places_the_order_and_goes_to_the_payment_page(shop, client):
    add(client, shop.tee_s, 1)
    token = client.session[carts.CART_SESSION_KEY]

    response = client.post("/checkout/", checkout_form())

    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get()
    assert order.state == "pending_payment"
    assert order.total == order.subtotal + order.shipping
    assert order.shipping == 10
    assert "/payments/" in response["Location"] or "sandbox" in response["Location"]
    assert client.session["omnimall_order_tokens"] == {order.number: order.guest_token}
    assert carts.CART_SESSION_KEY not in client.session
    assert Cart.objects.get(token=token).state == CartState.CHECKED_OUT
    payment_page = client.get(response["Location"])
    assert payment_page.status_code == 200
    trade = SandboxTrade.objects.get()
    assert trade.notify_url == "http://testserver/payments/notify/sandbox/"
    assert trade.return_url == (
        f"http://testserver/orders/{order.number}/?token={order.guest_token}"
    )
    assert client.get(trade.return_url).status_code == 200


def test_checkout_pickup_places_a_pickup_order(shop, client):
    add(client, shop.tee_s, 1)

    response = client.post(
        "/checkout/", checkout_form(delivery_method="pickup", store="sh-1", province="")
    )

    assert response.status_code == 302
    order = Order.objects.get()
    assert order.delivery_method == "pickup"
    assert order.pickup_store_id == shop.store_sh.pk
    assert order.shipping == 0


def test_checkout_shows_field_errors_and_places_nothing(shop, client):
    add(client, shop.tee_s, 1)

    response = client.post("/checkout/", checkout_form(phone="12345", district=""))

    assert response.status_code == 200
    html = response.content.decode()
    assert "landline" in html
    assert "This field is required" in html
    assert not Order.objects.exists()


def test_checkout_names_the_address_problems_too_when_a_contact_field_is_missing(shop, client):
    add(client, shop.tee_s, 1)

    response = client.post(
        "/checkout/", checkout_form(email="", phone="12345", province="", postal_code="2000")
    )

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert set(errors) == {"email", "phone", "province", "postal_code"}
    assert errors["phone"] == [
        "Enter a mobile number (11 digits) or a landline with its area code."
    ]
    assert not Order.objects.exists()


def test_checkout_names_the_missing_store_too_when_a_contact_field_is_missing(shop, client):
    add(client, shop.tee_s, 1)

    response = client.post("/checkout/", checkout_form(delivery_method="pickup", name=""))

    errors = response.context["form"].errors
    assert set(errors) == {"name", "store"}
    assert errors["store"] == ["Choose a store to pick up from."]


def test_checkout_says_a_bad_phone_number_once(shop, client):
    add(client, shop.tee_s, 1)

    response = client.post("/checkout/", checkout_form(phone="12345"))

    assert response.context["form"].errors["phone"] == [
        "Enter a mobile number (11 digits) or a landline with its area code."
    ]
    # Beside the field, and in the form's error summary.
    assert response.content.decode().count("or a landline with its area code.") == 2


def test_checkout_when_stock_ran_out_shows_a_message_and_keeps_the_bag(shop, client):
    add(client, shop.tee_m, 5)
    CartLine.objects.update(quantity=6)  # more than the 5 units the warehouse holds

    response = client.post("/checkout/", checkout_form())

    assert response.status_code == 200
    assert "ran out" in response.content.decode()
    assert not Order.objects.exists()
    assert session_cart(client).state == CartState.OPEN


def test_signed_in_checkout_is_prefilled_and_offers_saved_addresses(shop, shopper):
    client = Client()
    client.force_login(shopper)
    saved = addresses.save_address(user=shopper, data=ADDRESS)
    add(client, shop.tee_s, 1)

    page = client.get("/checkout/").content.decode()
    response = client.post(
        "/checkout/",
        checkout_form(saved_address=str(saved.pk), province="", city="", district="", street=""),
    )

    assert shopper.email in page
    assert f'name="saved_address" value="{saved.pk}" checked' in page
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.user_id == shopper.pk
    assert order.ship_to["street"] == ADDRESS["street"]


def test_a_saved_address_deleted_meanwhile_is_a_form_error_not_an_order(shop, shopper):
    client = Client()
    client.force_login(shopper)
    saved = addresses.save_address(user=shopper, data=ADDRESS)
    add(client, shop.tee_s, 1)
    saved.delete()  # in another tab

    response = client.post(
        "/checkout/",
        checkout_form(saved_address=str(saved.pk), province="", city="", district="", street=""),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "That address is no longer in your address book" in response.content.decode()
    assert not Order.objects.exists()


def test_a_saved_address_with_a_province_we_do_not_know_is_an_error_on_it(shop, shopper):
    client = Client()
    client.force_login(shopper)
    # Saved before addresses had to name a province we know.
    saved = Address.objects.create(user=shopper, **{**ADDRESS, "province": "Atlantis"})
    add(client, shop.tee_s, 1)

    response = client.post(
        "/checkout/",
        checkout_form(saved_address=str(saved.pk), province="", city="", district="", street=""),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["saved_address"] == [
        "This saved address is not complete or not valid: edit it in your address book, or "
        "enter a new address."
    ]
    assert not Order.objects.exists()


def test_a_guests_tampered_points_are_a_form_error(shop, client):
    add(client, shop.tee_s, 1)

    response = client.post("/checkout/", checkout_form(points="-5"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "greater than or equal to 0" in response.content.decode()
    assert not Order.objects.exists()


def test_signed_in_member_without_an_address_gets_the_members_mobile(shop, shopper):
    from omnimall.core.actors import Actor
    from omnimall.members.services.identity import enrol_member

    enrol_member(phone="+86 139 0013 9001", actor=Actor.system("test"), user_id=shopper.pk)
    client = Client()
    client.force_login(shopper)
    add(client, shop.tee_s, 1)

    page = client.get("/checkout/").content.decode()

    (phone,) = re.findall(r'<input[^>]*name="phone"[^>]*>', page)
    assert 'value="13900139001"' in phone  # as people type it, not +8613900139001


def test_header_summary_shows_sign_in_or_account(shop, client, shopper):
    anonymous = client.get("/cart/summary/").content.decode()
    client.force_login(shopper)
    signed_in = client.get("/cart/summary/").content.decode()

    assert "/account/login/" in anonymous
    assert "/account/" in signed_in
    assert "/account/login/" not in signed_in


def test_pages_add_to_a_signed_in_users_own_cart(shop, shopper):
    client = Client()
    client.force_login(shopper)

    add(client, shop.tee_s, 1)

    assert session_cart(client).user_id == shopper.pk
