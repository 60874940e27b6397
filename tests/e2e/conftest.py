"""The catalog the browser tests shop in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from omnimall.catalog.models import Product
from omnimall.search.services import rebuild_index
from tests.catalog.factories import Departments, make_departments, make_product


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
