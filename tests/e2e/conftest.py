"""The catalog the browser tests shop in, and when the accessibility audits run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection

from omnimall.catalog.models import Product
from omnimall.core.actors import Actor
from omnimall.inventory import services as inventory
from omnimall.search.services import rebuild_index
from tests.catalog.factories import Departments, make_departments, make_product
from tests.inventory.factories import make_location, make_pickup_store
from tests.orders.factories import Shop

STOCK_ACTOR = Actor.system("e2e stock")


@dataclass(frozen=True)
class Catalog:
    departments: Departments
    tee: Product
    striped: Product
    sneaker: Product


@pytest.fixture
def catalog() -> Catalog:
    """Two tees (one on sale) under Women › Tops › T-shirts and a pair of sneakers with
    three variants under Shoes › Sneakers, searchable.

    Default channels and price lists: put back by tests/conftest.py for transactional tests.
    """
    departments = make_departments()
    tee = make_product(
        category=departments.tshirts,
        brand=departments.northwind,
        slug="cotton-tee",
        name_en="Cotton Tee",
        name_zh="纯棉T恤",
        popularity=5,
        variants=(("S", "black", "49.00"), ("M", "black", "49.00"), ("M", "white", "49.00")),
    )
    striped = make_product(
        category=departments.tshirts,
        brand=departments.lumen,
        slug="striped-tee",
        name_en="Striped Tee",
        name_zh="条纹T恤",
        popularity=4,
        sale_price="99.00",
        variants=(("S", "navy", "129.00"),),
    )
    sneaker = make_product(
        category=departments.sneakers,
        brand=departments.northwind,
        slug="court-sneakers",
        name_en="Court Sneakers",
        name_zh="经典运动鞋",
        popularity=9,
        variants=(("40", "white", "599.00"), ("42", "white", "599.00"), ("42", "black", "649.00")),
    )
    rebuild_index()
    return Catalog(departments, tee, striped, sneaker)


@pytest.fixture
def stocked(catalog) -> Shop:
    """The catalog in stock, ten of each SKU, at a warehouse and at a pick-up store; as an
    orders test shop (``tests.orders.factories``) that orders the tee's sizes."""
    warehouse = make_location("wh-e2e", city="Shanghai", priority=1)
    store = make_pickup_store("sh-e2e")
    for product in (catalog.tee, catalog.striped, catalog.sneaker):
        for sku in product.skus.all():
            for location in (warehouse, store):
                inventory.receive_stock(
                    location_id=location.pk, sku_id=sku.pk, quantity=10, actor=STOCK_ACTOR
                )
    return Shop(warehouse=warehouse, store=store, skus=list(catalog.tee.skus.order_by("position")))


@pytest.fixture
def sqlite_pass_only() -> None:
    """The pages' markup does not depend on the database: `make test` audits them in its
    SQLite pass and spares the PostgreSQL pass the browser work."""
    if connection.vendor != "sqlite":
        pytest.skip("accessibility is checked in the SQLite pass")
