"""A small shop with stock for the cart and checkout tests."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from omnimall.catalog.models import Product, Sku
from omnimall.checkout.models import ShippingZone
from omnimall.checkout.services.shipping import save_shipping_zone
from omnimall.core.actors import Actor
from omnimall.inventory import services as inventory
from omnimall.inventory.models import LocationKind, StockLocation
from omnimall.members.models import Member
from omnimall.members.services.identity import enrol_member
from tests.catalog.factories import BrandFactory, make_category, make_product
from tests.inventory.factories import STOCK_ACTOR, make_location
from tests.members.test_points_factories import give_points

CONTACT = {"name": "李雷", "email": "lilei@example.com", "phone": "13800138000"}
ADDRESS = {
    "name": "李雷",
    "phone": "13800138000",
    "province": "上海市",
    "city": "上海",
    "district": "黄浦区",
    "street": "南京东路 100 号",
    "postal_code": "200001",
}


STAFF = Actor.system("test")


def make_zone(name, provinces, fee="20.00", free_from="299.00", delivers=True, **fields):
    """A shipping zone saved as staff save one (audited, the cached rates retired)."""
    return save_shipping_zone(
        zone=ShippingZone(
            name_zh=name,
            fee=Decimal(fee),
            free_from=None if free_from is None else Decimal(free_from),
            delivers=delivers,
            **fields,
        ),
        provinces=provinces,
        actor=STAFF,
    )


@dataclass
class Shop:
    tee: Product
    shirt: Product
    tee_s: Sku
    tee_m: Sku
    tee_white: Sku
    shirt_l: Sku
    warehouse: StockLocation
    store_sh: StockLocation
    store_bj: StockLocation


def _store(code: str, city: str, lat: str, lng: str) -> StockLocation:
    return make_location(
        code,
        kind=LocationKind.STORE,
        city=city,
        can_ship=False,
        offers_pickup=True,
        latitude=Decimal(lat),
        longitude=Decimal(lng),
        name_en=f"Store {code}",
        name_zh=f"门店{code}",
        address=f"{code} road 1",
        opening_hours="10:00-22:00",
    )


def receive(location: StockLocation, sku: Sku, quantity: int) -> None:
    inventory.receive_stock(
        location_id=location.pk, sku_id=sku.pk, quantity=quantity, actor=STOCK_ACTOR
    )


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def shop(db, settings) -> Shop:
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.FREE_SHIPPING_FROM = "99.00"
    settings.SHIPPING_FEE = "10.00"
    category = make_category("tees", name_en="Tees")
    brand = BrandFactory(slug="northwind", name_en="Northwind", name_zh="北风")
    tee = make_product(
        category=category,
        brand=brand,
        slug="cotton-tee",
        name_en="Cotton Tee",
        name_zh="纯棉T恤",
        variants=(("S", "black", "49.00"), ("M", "black", "49.00"), ("M", "white", "59.00")),
    )
    shirt = make_product(
        category=category,
        brand=brand,
        slug="linen-shirt",
        name_en="Linen Shirt",
        name_zh="亚麻衬衫",
        variants=(("L", "navy", "399.00"),),
        sale_price="299.00",
    )
    tee_s, tee_m, tee_white = tee.skus.order_by("position")
    (shirt_l,) = shirt.skus.all()
    warehouse = make_location("wh", city="Shanghai", priority=1)
    store_sh = _store("sh-1", "Shanghai", "31.2195", "121.475")
    store_bj = _store("bj-1", "Beijing", "39.936", "116.455")
    receive(warehouse, tee_s, 30)
    receive(warehouse, tee_m, 5)
    receive(warehouse, shirt_l, 10)
    receive(store_sh, tee_s, 3)
    receive(store_sh, shirt_l, 2)
    receive(store_bj, tee_s, 9)
    # tee_white: nothing anywhere
    return Shop(tee, shirt, tee_s, tee_m, tee_white, shirt_l, warehouse, store_sh, store_bj)


@pytest.fixture
def shopper(db):
    return get_user_model().objects.create_user(
        username="lilei", email="lilei@example.com", password="pw-123456!"
    )


@pytest.fixture
def other_shopper(db):
    return get_user_model().objects.create_user(
        username="hanmeimei", email="han@example.com", password="pw-123456!"
    )


@pytest.fixture
def member(shopper) -> Member:
    """The shopper as a member with 20000 points."""
    made = enrol_member(phone="+8613900139001", actor=STAFF, user_id=shopper.pk)
    give_points(made, 20_000, "test:gift", document="gift", actor=STAFF)
    return Member.objects.get(pk=made.pk)
