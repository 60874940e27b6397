"""A small bilingual shop whose search index follows it through catalog events."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from omnimall.catalog.models import Brand, Category, Product
from tests.catalog.factories import BrandFactory, make_category, make_product


@dataclass
class SearchShop:
    shoes: Category
    sneakers: Category
    tops: Category
    stride: Brand
    runner: Product
    tee: Product
    dress: Product


@pytest.fixture
def shop(db, django_capture_on_commit_callbacks) -> SearchShop:
    # Catalog events fire on COMMIT; running the captured callbacks is what a real
    # request does when its transaction commits, so the index follows without a rebuild.
    with django_capture_on_commit_callbacks(execute=True):
        shoes = make_category("shoes", name_en="Shoes", name_zh="鞋履", is_featured=True)
        sneakers = make_category("sneakers", parent=shoes, name_en="Sneakers", name_zh="运动鞋")
        tops = make_category("tops", name_en="Tops", name_zh="上衣")
        stride = BrandFactory(slug="stride", name_en="Stride", name_zh="步履")
        runner = make_product(
            category=sneakers,
            brand=stride,
            slug="trail-runner",
            popularity=40,
            name_en="Trail Running Sneakers",
            name_zh="男士越野跑步运动鞋",
            variants=(("42", "black", "499.00"), ("43", "navy", "499.00")),
            attributes=[
                {"name_en": "Upper", "name_zh": "鞋面", "value_en": "Mesh", "value_zh": "网面"}
            ],
        )
        tee = make_product(
            category=tops,
            slug="cotton-tee",
            popularity=20,
            name_en="Cotton Crew T-Shirt",
            name_zh="纯棉圆领短袖T恤",
            variants=(("M", "white", "99.00"),),
        )
        dress = make_product(
            category=tops,
            slug="silk-dress",
            popularity=5,
            name_en="Silk Midi Dress",
            name_zh="真丝连衣裙",
            variants=(("S", "red", "899.00"),),
        )
    return SearchShop(shoes, sneakers, tops, stride, runner, tee, dress)
