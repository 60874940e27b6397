"""The address book pages: add, edit, delete, and nobody else's addresses."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from omnimall.checkout.models import Address

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HOME = {
    "name": "Li Lei",
    "phone": "13800138000",
    "province": "上海市",
    "city": "上海市",
    "district": "黄浦区",
    "street": "南京东路 1 号",
    "postal_code": "200001",
}


def _user(email):
    return get_user_model().objects.create_user(username=email, email=email, password="x")


@pytest.fixture
def shopper(client):
    user = _user("shopper@example.com")
    client.force_login(user)
    return user


def test_add_address_saves_it_for_the_shopper_and_lists_it(client, shopper):
    response = client.post("/account/addresses/new/", HOME, **EN)

    assert response.status_code == 302
    assert response["Location"] == "/account/addresses/"
    address = Address.objects.get()
    assert address.user == shopper
    assert (address.province, address.district, address.postal_code) == (
        "上海市",
        "黄浦区",
        "200001",
    )
    assert address.is_default  # the first address is the default
    listing = client.get("/account/addresses/", **EN)
    assert "南京东路 1 号" in listing.content.decode()
    assert "Address saved." in listing.content.decode()
    assert "private" in listing["Cache-Control"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"phone": "12345"}, "mobile number"),
        ({"postal_code": "2000"}, "6 digits"),
        ({"district": "  "}, "required"),
        ({"street": "x" * 201}, "at most 200 characters"),
        ({"province": "Atlantis"}, "Enter a province, region or municipality of China"),
    ],
)
def test_add_address_shows_form_error_and_saves_nothing_when_field_invalid(
    client, shopper, change, error
):
    response = client.post("/account/addresses/new/", {**HOME, **change}, **EN)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Address.objects.exists()


def test_edit_address_changes_it_and_default_moves(client, shopper):
    client.post("/account/addresses/new/", HOME)
    client.post("/account/addresses/new/", {**HOME, "street": "淮海中路 2 号"})
    first, second = Address.objects.order_by("pk")

    page = client.get(f"/account/addresses/{second.pk}/", **EN)
    response = client.post(
        f"/account/addresses/{second.pk}/", {**HOME, "street": "淮海中路 3 号", "is_default": "on"}
    )

    assert 'value="淮海中路 2 号"' in page.content.decode()
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.street == "淮海中路 3 号"
    assert second.is_default
    assert not first.is_default


def test_delete_address_needs_post_and_removes_it(client, shopper):
    client.post("/account/addresses/new/", HOME)
    address = Address.objects.get()

    by_get = client.get(f"/account/addresses/{address.pk}/delete/")
    by_post = client.post(f"/account/addresses/{address.pk}/delete/")

    assert by_get.status_code == 405
    assert by_post.status_code == 302
    assert not Address.objects.exists()


def test_another_shoppers_address_is_not_found_for_view_edit_or_delete(client, shopper):
    other = _user("other@example.com")
    theirs = Address.objects.create(user=other, **HOME)

    view = client.get(f"/account/addresses/{theirs.pk}/", **EN)
    edit = client.post(f"/account/addresses/{theirs.pk}/", {**HOME, "street": "hijacked"})
    delete = client.post(f"/account/addresses/{theirs.pk}/delete/")
    listing = client.get("/account/addresses/", **EN)

    assert view.status_code == 404
    assert edit.status_code == 404
    assert delete.status_code == 404
    theirs.refresh_from_db()
    assert theirs.street == HOME["street"]
    assert "南京东路" not in listing.content.decode()


def test_address_pages_need_sign_in(client):
    response = client.get("/account/addresses/new/")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/?next=")


@pytest.mark.parametrize("address_id", ["99999999999999999999999", "2147483648"])
def test_huge_address_ids_are_not_found(client, shopper, address_id):
    view = client.get(f"/account/addresses/{address_id}/", **EN)
    delete = client.post(f"/account/addresses/{address_id}/delete/")

    assert view.status_code == 404
    assert delete.status_code == 404


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("138 0013 8000", "13800138000"), ("021-6321 0000-88", "021-63210000-88")],
)
def test_a_phone_typed_with_spaces_or_an_extension_is_taken_as_checkout_takes_it(
    client, shopper, typed, kept
):
    """The form and the services share one phone rule (``checkout.domain``): a number
    checkout accepts is not refused by the address book."""
    response = client.post("/account/addresses/new/", {**HOME, "phone": typed}, **EN)

    assert response.status_code == 302
    assert Address.objects.get().phone == kept
