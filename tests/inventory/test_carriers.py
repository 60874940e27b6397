"""Parcel carriers: a shipment's free-text carrier shown by name in the shopper's language,
with a link to follow the parcel, on the order page, in the API and in the shipped email."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from omnimall.core import roles
from omnimall.core.models import AuditEntry, OutboxMessage
from omnimall.inventory.demo import load_demo_carriers
from omnimall.inventory.models import Carrier
from omnimall.inventory.selectors.carriers import carrier_index, label_for
from tests.orders.factories import make_paid_order, make_shop, ship_all

pytestmark = pytest.mark.django_db

SF_TRACKING = "https://track.example.cn/sf?no={number}"


@pytest.fixture
def sf():
    return Carrier.objects.create(
        code="sf",
        name_en="SF Express",
        name_zh="顺丰速运",
        aliases="顺丰, SF",
        tracking_url=SF_TRACKING,
    )


@pytest.mark.parametrize("reported", ["sf", "SF", "SF Express", "sf-express", "顺丰速运", " 顺丰 "])
def test_a_carrier_is_recognised_by_code_name_or_alias_whatever_the_case(sf, reported):
    label = label_for(reported, "SF 1001/2", carrier_index())

    assert (label.name_en, label.name_zh) == ("SF Express", "顺丰速运")
    assert label.tracking_url == "https://track.example.cn/sf?no=SF%201001%2F2"  # quoted


def test_an_unknown_carrier_is_shown_as_reported_without_a_link(sf):
    label = label_for("Deppon", "DP1", carrier_index())

    assert (label.name_en, label.name_zh, label.tracking_url) == ("Deppon", "Deppon", "")


def test_a_carrier_without_a_tracking_page_gets_no_link(sf):
    Carrier.objects.filter(pk=sf.pk).update(tracking_url="")

    assert label_for("SF", "SF1", carrier_index()).tracking_url == ""


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://track.example.cn/sf", "no_number_placeholder"),
        ("javascript:alert(1)//{number}", "invalid"),
        ("track.example.cn/{number}", "invalid"),
    ],
)
def test_a_tracking_page_must_be_a_web_address_with_the_number_in_it(url, code):
    carrier = Carrier(code="x", name_en="X", name_zh="X", tracking_url=url)

    with pytest.raises(ValidationError) as refused:
        carrier.full_clean()

    assert refused.value.error_dict["tracking_url"][0].code == code


@pytest.fixture
def shipped(sf):
    order = make_paid_order(make_shop(units=10), user=None)
    return ship_all(order, carrier="顺丰", tracking="SF7788")


def test_the_order_page_names_the_carrier_in_the_readers_language_and_links_the_parcel(shipped):
    path = f"/orders/{shipped.number}/?token={shipped.guest_token}"

    english = Client().get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = Client().get(path, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    link = '<a class="track-parcel" href="https://track.example.cn/sf?no=SF7788"'
    assert link in english
    assert "Track it at SF Express" in english
    assert link in chinese
    assert "顺丰速运" in chinese


def test_the_api_gives_the_reported_carrier_its_names_and_the_tracking_link(shipped):
    response = Client().get(
        f"/api/v1/orders/{shipped.number}",
        {"token": shipped.guest_token},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    [shipment] = response.json()["shipments"]
    assert shipment["carrier"] == "顺丰"
    assert shipment["carrier_name"] == "SF Express"
    assert (shipment["carrier_name_en"], shipment["carrier_name_zh"]) == ("SF Express", "顺丰速运")
    assert shipment["tracking_url"] == "https://track.example.cn/sf?no=SF7788"


def test_the_shipped_email_names_the_carrier_in_both_languages_and_links_the_parcel(shipped):
    email = OutboxMessage.objects.get(kind="email", topic="order.shipped").payload

    assert "Carrier / 快递公司: SF Express / 顺丰速运" in email["body"]
    assert "Track your parcel / 查询物流: https://track.example.cn/sf?no=SF7788" in email["body"]
    assert 'href="https://track.example.cn/sf?no=SF7788"' in email["html"]
    assert 'SF Express / <span lang="zh-Hans">顺丰速运</span>' in email["html"]


def test_logistics_adds_a_carrier_in_the_back_office_with_an_audit_entry():
    user = get_user_model().objects.create_user("lena", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.LOGISTICS))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    add = reverse("admin:inventory_carrier_add")
    form = {"code": "zto", "name_zh": "中通快递", "name_en": "ZTO Express", "aliases": "中通"}

    refused = client.post(add, {**form, "tracking_url": "https://zto.example.cn/track"})
    saved = client.post(add, {**form, "tracking_url": "https://zto.example.cn/t/{number}"})

    assert refused.status_code == 200
    assert "Put {number} where the tracking number goes." in refused.content.decode()
    assert saved.status_code == 302
    assert Carrier.objects.get(code="zto").name_zh == "中通快递"
    assert AuditEntry.objects.filter(action="carrier.created").count() == 1


def test_the_demo_carriers_are_loaded_once_and_not_again_once_deleted():
    assert load_demo_carriers() == 4
    assert {c.code for c in Carrier.objects.all()} == {"sf", "zto", "yto", "jd"}
    assert "{number}" in Carrier.objects.get(code="sf").tracking_url

    Carrier.objects.all().delete()

    assert load_demo_carriers() == 0
    assert not Carrier.objects.exists()


def test_the_demo_historys_carriers_are_all_known():
    from omnimall.orders.demo.people import CARRIERS

    load_demo_carriers()
    index = carrier_index()

    assert all(label_for(name, "1", index).tracking_url for name, _prefix, _n in CARRIERS)


def test_customer_service_sees_the_parcel_and_its_tracking_link_on_the_order(shipped):
    user = get_user_model().objects.create_user("cs", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.CUSTOMER_SERVICE))
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)

    page = client.get(reverse("admin:orders_order_change", args=[shipped.pk])).content.decode()

    assert "顺丰速运 · " in page
    assert (
        '<a href="https://track.example.cn/sf?no=SF7788" rel="noopener noreferrer">SF7788</a>'
        in page
    )
