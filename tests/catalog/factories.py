"""Catalog test data. ``make_product`` builds a sellable product with SKUs and prices."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import factory
from django.conf import settings

from omnimall.catalog import services
from omnimall.catalog.models import Brand, Category, Price, PriceList, Product, ProductImage, Sku
from omnimall.core.actors import Actor

TEST_ACTOR = Actor.system("tests")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"brand-{n}")
    name_en = factory.Sequence(lambda n: f"Brand {n}")
    name_zh = factory.Sequence(lambda n: f"品牌{n}")


def make_category(
    slug: str,
    *,
    parent: Category | None = None,
    name_en: str = "",
    name_zh: str = "",
    **fields: object,
) -> Category:
    return services.create_category(
        parent=parent,
        slug=slug,
        name_en=name_en or slug.replace("-", " ").title(),
        name_zh=name_zh or f"类目{slug}",
        actor=TEST_ACTOR,
        **fields,
    )


@dataclass(frozen=True)
class Departments:
    """Women › Tops › T-shirts and Shoes › Sneakers, and two brands to shop them by."""

    women: Category
    tops: Category
    tshirts: Category
    shoes: Category
    sneakers: Category
    northwind: Brand
    lumen: Brand


def make_departments() -> Departments:
    """The category tree the storefront's page and browser tests shop in: three levels
    deep on one side (the navigation's fly-out), two on the other, Women featured."""
    women = make_category("women", name_en="Women", name_zh="女装", is_featured=True)
    tops = make_category("tops", parent=women, name_en="Tops", name_zh="上衣")
    tshirts = make_category("t-shirts", parent=tops, name_en="T-shirts", name_zh="T恤")
    shoes = make_category("shoes", name_en="Shoes", name_zh="鞋履")
    sneakers = make_category("sneakers", parent=shoes, name_en="Sneakers", name_zh="运动鞋")
    northwind = BrandFactory(slug="northwind", name_en="Northwind", name_zh="北风")
    lumen = BrandFactory(slug="lumen", name_en="Lumen", name_zh="流明")
    return Departments(women, tops, tshirts, shoes, sneakers, northwind, lumen)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    slug = factory.Sequence(lambda n: f"product-{n}")
    brand = factory.SubFactory(BrandFactory)
    name_en = factory.Sequence(lambda n: f"Product {n}")
    name_zh = factory.Sequence(lambda n: f"商品{n}")
    description_en = "A product."
    description_zh = "一件商品。"


def storefront_price_list() -> PriceList:
    return PriceList.objects.get(channel__code=settings.STOREFRONT_CHANNEL)


def make_product(
    *,
    category: Category,
    brand: Brand | None = None,
    variants: tuple[tuple[str, str, str], ...] = (("M", "black", "199.00"),),
    sale_price: str | None = None,
    **fields: object,
) -> Product:
    """A product with one SKU per (size, colour, list price) and storefront prices."""
    product = ProductFactory(category=category, brand=brand or BrandFactory(), **fields)
    price_list = storefront_price_list()
    for position, (size, colour, list_price) in enumerate(variants):
        sku = Sku.objects.create(
            product=product,
            code=f"{product.slug}-{size}-{colour}".upper(),
            barcode=f"69{product.pk:06d}{position:04d}",
            size=size,
            colour=colour,
            position=position,
        )
        Price.objects.create(
            price_list=price_list,
            sku=sku,
            list_price=Decimal(list_price),
            sale_price=Decimal(sale_price) if sale_price else None,
        )
    services.refresh_display_prices(product_ids=[product.pk])
    services.notify_catalog_changed(product_ids=[product.pk])
    product.refresh_from_db()
    return product


def make_image(
    product: Product, *, name: str = "image.png", position: int = 0, colour: str = ""
) -> ProductImage:
    """A real 4x3 PNG attached to ``product`` (ImageField reads its dimensions)."""
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(buffer, format="PNG")
    image = ProductImage(product=product, position=position, colour=colour)
    image.image.save(name, ContentFile(buffer.getvalue()), save=False)
    ProductImage._meta.get_field("image").update_dimension_fields(image, force=True)
    image.save()
    return image
