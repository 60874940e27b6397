"""A small shop for the storefront tests: two category branches, three brands, variants."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from omnimall.catalog.models import Brand, Category, Product
from tests.catalog.factories import BrandFactory, make_category, make_product


@dataclass
class Shop:
    women: Category
    tops: Category
    tshirts: Category
    shoes: Category
    sneakers: Category
    northwind: Brand
    lumen: Brand
    tee: Product
    shirt: Product
    sneaker: Product


@pytest.fixture
def shop(db) -> Shop:
    women = make_category("women", name_en="Women", name_zh="女装", is_featured=True)
    tops = make_category("tops", parent=women, name_en="Tops", name_zh="上衣")
    tshirts = make_category("t-shirts", parent=tops, name_en="T-shirts", name_zh="T恤")
    shoes = make_category("shoes", name_en="Shoes", name_zh="鞋履")
    sneakers = make_category("sneakers", parent=shoes, name_en="Sneakers", name_zh="运动鞋")
    northwind = BrandFactory(slug="northwind", name_en="Northwind", name_zh="北风")
    lumen = BrandFactory(slug="lumen", name_en="Lumen", name_zh="流明")
    tee = make_product(
        category=tshirts,
        brand=northwind,
        slug="cotton-tee",
        name_en="Cotton Tee",
        name_zh="纯棉T恤",
        popularity=50,
        variants=(("S", "black", "99.00"), ("M", "black", "99.00"), ("M", "white", "109.00")),
    )
    shirt = make_product(
        category=tops,
        brand=lumen,
        slug="linen-shirt",
        name_en="Linen Shirt",
        name_zh="亚麻衬衫",
        popularity=10,
        variants=(("L", "navy", "399.00"),),
        sale_price="299.00",
    )
    sneaker = make_product(
        category=sneakers,
        brand=northwind,
        slug="court-sneakers",
        name_en="Court Sneakers",
        name_zh="经典运动鞋",
        popularity=30,
        variants=(("40", "white", "599.00"), ("41", "white", "599.00"), ("42", "black", "649.00")),
        attributes=[
            {"name_en": "Upper", "name_zh": "鞋面", "value_en": "Leather", "value_zh": "皮革"}
        ],
    )
    return Shop(women, tops, tshirts, shoes, sneakers, northwind, lumen, tee, shirt, sneaker)
