"""``omnimall manage load_demo``: what a new user finds in the shop after ``make demo``."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max, Min
from PIL import Image

from omnimall.catalog.demo.generate import ProductGenerator, ean13
from omnimall.catalog.domain import COLOURS
from omnimall.catalog.models import Brand, Category, Price, Product, ProductImage, Sku
from omnimall.checkout.models import ShippingZone
from omnimall.checkout.services.shipping import delete_shipping_zone
from omnimall.core.actors import Actor
from omnimall.inventory.models import StockLocation

pytestmark = pytest.mark.django_db

PRODUCTS = 60
CJK = re.compile(r"[\u4e00-\u9fff]")


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", "--products", str(PRODUCTS), "--no-progress", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Brand, Category, Product, Sku, Price, ProductImage, StockLocation)
    }


@pytest.fixture
def demo() -> str:
    return load()


def test_load_demo_creates_three_brands_one_online_only_when_run_on_empty_db(demo):
    brands = list(Brand.objects.order_by("slug"))
    assert len(brands) == 3
    assert [b.slug for b in brands if b.online_only] == ["cloudnest"]
    assert all(b.name_en and CJK.search(b.name_zh) for b in brands)
    # every brand has products, so each can be filtered on in the shop
    assert Product.objects.values("brand").distinct().count() == 3


def test_load_demo_builds_three_level_bilingual_category_tree_when_run_on_empty_db(demo):
    assert Category.objects.filter(depth=1).count() == 3
    assert Category.objects.aggregate(Max("depth"))["depth__max"] == 3
    leaves = Category.objects.filter(depth=3)
    assert leaves.count() >= 30
    assert Category.objects.filter(is_featured=True).exists()
    tee = Category.objects.get(full_slug="clothing/men/t-shirts")
    assert (tee.name_en, tee.name_zh) == ("T-shirts", "T恤")
    men = Category.objects.get(full_slug="clothing/men")
    assert (men.depth, men.name_zh) == (2, "男装")
    assert tee.path.startswith(men.path)
    assert all(CJK.search(c.name_zh) or c.name_zh == c.name_en for c in Category.objects.all())
    # products hang on leaves only
    assert set(Product.objects.values_list("category__depth", flat=True)) == {3}


def test_load_demo_creates_products_with_bilingual_text_and_sized_skus_when_run(demo):
    assert Product.objects.count() == PRODUCTS
    assert Sku.objects.count() >= 4 * PRODUCTS
    for product in Product.objects.all():
        assert product.name_en
        assert CJK.search(product.name_zh)
        assert product.name_en in product.description_en
        assert CJK.search(product.description_zh)
        assert {a["name_en"] for a in product.attributes} >= {"Material", "Season"}
    sizes_by_root = defaultdict(set)
    for size, colour, full_slug in Sku.objects.values_list(
        "size", "colour", "product__category__full_slug"
    ):
        sizes_by_root[full_slug.split("/")[0]].add(size)
        assert colour in COLOURS
    assert sizes_by_root["clothing"] <= {"XS", "S", "M", "L", "XL", "XXL"}
    assert {int(s) for s in sizes_by_root["shoes"]} <= set(range(36, 46))
    assert sizes_by_root["accessories"] == {"ONE"}


def test_load_demo_gives_skus_unique_codes_and_valid_ean13_barcodes_when_run(demo):
    codes = list(Sku.objects.values_list("code", flat=True))
    barcodes = list(Sku.objects.values_list("barcode", flat=True))
    assert len(set(codes)) == len(codes)
    assert len(set(barcodes)) == len(barcodes)
    assert all(len(b) == 13 and b.isdigit() and ean13(b[:12]) == b for b in barcodes)


def test_load_demo_prices_every_sku_in_both_lists_and_sets_display_price_when_run(demo):
    sku_count = Sku.objects.count()
    by_list = dict(Price.objects.values_list("price_list__code").annotate(n=Count("id")).order_by())
    assert by_list == {"online": sku_count, "stores": sku_count}
    online = {p.sku_id: p for p in Price.objects.filter(price_list__code="online")}
    store = {p.sku_id: p for p in Price.objects.filter(price_list__code="stores")}
    assert any(store[s].list_price > online[s].list_price for s in online)
    assert any(p.sale_price is not None for p in online.values())
    assert all(store[s].list_price >= online[s].list_price for s in online)
    lowest: dict[int, Decimal] = {}
    for sku_id, product_id in Sku.objects.values_list("id", "product_id"):
        price = online[sku_id].effective_price
        lowest[product_id] = min(price, lowest.get(product_id, price))
    assert dict(Product.objects.values_list("id", "display_price")) == lowest


def test_load_demo_spreads_created_at_and_popularity_when_run(demo):
    span = Product.objects.aggregate(lo=Min("created_at"), hi=Max("created_at"))
    assert (span["hi"] - span["lo"]).days > 60
    assert Product.objects.values("popularity").distinct().count() > 10


def test_load_demo_writes_shared_placeholder_images_under_media_root_when_run(demo, settings):
    assert not Product.objects.filter(images__isnull=True).exists()
    names = set(ProductImage.objects.values_list("image", flat=True))
    image = ProductImage.objects.first()
    with Image.open(Path(settings.MEDIA_ROOT) / image.image.name) as picture:
        assert picture.size == (image.width, image.height)
    # shared files, not one per product
    assert len(names) < ProductImage.objects.count()
    for name in names:
        path = Path(settings.MEDIA_ROOT) / name
        assert path.is_file()
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list((Path(settings.MEDIA_ROOT) / "demo").glob("*.png"))) <= 150


def test_load_demo_creates_two_warehouses_and_twelve_stores_in_five_cities_when_run(demo):
    warehouses = StockLocation.objects.filter(kind="warehouse")
    stores = StockLocation.objects.filter(kind="store")
    assert warehouses.count() == 2
    assert stores.count() == 12
    assert StockLocation.objects.values("city").distinct().count() >= 5
    assert all(s.offers_pickup and s.opening_hours and s.latitude and s.address for s in stores)
    assert all(w.can_ship and w.priority < min(s.priority for s in stores) for w in warehouses)


def test_load_demo_changes_nothing_when_run_a_second_time(demo):
    before = counts()
    output = load()
    assert "already loaded" in output
    assert counts() == before


def test_load_demo_sets_up_remote_and_undelivered_shipping_zones_once(demo):
    zones = {z.name_zh: z for z in ShippingZone.objects.prefetch_related("provinces")}
    remote, abroad = zones["偏远地区"], zones["港澳台"]

    assert "Demo shipping zones: 2" in demo
    assert set(zones) == {"偏远地区", "港澳台"}
    assert (remote.fee, remote.free_from, remote.delivers) == (
        Decimal("20.00"),
        Decimal("299.00"),
        True,
    )
    assert {p.province for p in remote.provinces.all()} == {
        "XJ",
        "XZ",
        "QH",
        "NM",
        "NX",
        "GS",
        "HI",
    }
    assert (abroad.delivers, {p.province for p in abroad.provinces.all()}) == (
        False,
        {"HK", "MO", "TW"},
    )
    for zone in zones.values():  # staff remove them: a later start does not bring them back
        delete_shipping_zone(zone=zone, actor=Actor.system("test"))
    assert "shipping zones" not in load()
    assert not ShippingZone.objects.exists()


def test_load_demo_keeps_existing_stock_locations_when_some_exist():
    StockLocation.objects.create(
        code="wh-east", name_en="Mine", name_zh="我的", kind="warehouse", city="Suzhou"
    )
    load()
    assert StockLocation.objects.get(code="wh-east").name_en == "Mine"
    assert StockLocation.objects.count() == 14


def test_load_demo_refuses_when_products_is_not_positive():
    with pytest.raises(CommandError):
        call_command("load_demo", "--products", "0", stdout=StringIO())
    assert Product.objects.count() == 0


def test_bench_hello_answers_json_without_database_work_when_requested(client):
    # The framework ceiling of benchmarks/storefront.py: it must stay a bare view.
    response = client.get("/bench/hello")
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}
    assert 'db;desc="queries=0"' in response["Server-Timing"]


def test_ean13_appends_the_standard_check_digit_when_given_twelve_digits():
    assert ean13("400638133393") == "4006381333931"  # a published example
    assert ean13("690123456789") == "6901234567892"


def test_product_generator_repeats_the_catalog_when_given_the_same_seed():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    first = [ProductGenerator(seed=5, now=now).product(n) for n in range(1, 30)]
    again = [ProductGenerator(seed=5, now=now).product(n) for n in range(1, 30)]
    other = [ProductGenerator(seed=6, now=now).product(n) for n in range(1, 30)]
    assert first == again
    assert first != other


def test_load_demo_leaves_planner_statistics_when_run(demo):
    # Fresh bulk-loaded tables without statistics get slow plans (autovacuum may be off).
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'catalog_sku'")
            assert cursor.fetchone()[0] == Sku.objects.count()
        else:
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'catalog_sku'")
            assert cursor.fetchone()[0] > 0
