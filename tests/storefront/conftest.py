"""A small shop for the storefront tests: two category branches, two brands, variants."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from omnimall.catalog.models import Product
from tests.catalog.factories import Departments, make_departments, make_product


@dataclass(frozen=True)
class Shop(Departments):
    tee: Product
    shirt: Product
    sneaker: Product


@pytest.fixture
def shop(db) -> Shop:
    departments = make_departments()
    tee = make_product(
        category=departments.tshirts,
        brand=departments.northwind,
        slug="cotton-tee",
        name_en="Cotton Tee",
        name_zh="纯棉T恤",
        popularity=50,
        variants=(("S", "black", "99.00"), ("M", "black", "99.00"), ("M", "white", "109.00")),
    )
    shirt = make_product(
        category=departments.tops,
        brand=departments.lumen,
        slug="linen-shirt",
        name_en="Linen Shirt",
        name_zh="亚麻衬衫",
        popularity=10,
        variants=(("L", "navy", "399.00"),),
        sale_price="299.00",
    )
    sneaker = make_product(
        category=departments.sneakers,
        brand=departments.northwind,
        slug="court-sneakers",
        name_en="Court Sneakers",
        name_zh="经典运动鞋",
        popularity=30,
        variants=(("40", "white", "599.00"), ("41", "white", "599.00"), ("42", "black", "649.00")),
        attributes=[
            {"name_en": "Upper", "name_zh": "鞋面", "value_en": "Leather", "value_zh": "皮革"}
        ],
    )
    return Shop(**vars(departments), tee=tee, shirt=shirt, sneaker=sneaker)
