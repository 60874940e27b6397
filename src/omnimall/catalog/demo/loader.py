"""Write the demo catalog and stock locations: bulk inserts, no per-row work.

Categories go through ``catalog.services.create_category`` (tree paths and audit) and commit
first; brands, products, SKUs, prices, images and locations follow in one transaction, so
an interrupted load leaves no demo brand behind and the next run starts again. Products,
SKUs, prices and images are bulk-inserted in batches with their display prices computed
up front, so 100,000 products load in minutes. Signals, audit entries and search re-indexing
are not run per row: the search index is rebuilt once at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management import call_command, get_commands
from django.db import transaction
from tqdm import tqdm

from omnimall.catalog import domain, services
from omnimall.catalog.models import Brand, Category, Price, PriceList, Product, ProductImage, Sku
from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.inventory.models import StockLocation

from .bulk import analyze, insert_rows
from .generate import ONLINE, STORES, ProductGenerator, ProductSpec
from .images import HEIGHT, WIDTH, ensure_placeholders
from .locations import LOCATIONS
from .stock import demo_stock_present, load_demo_stock
from .tables import BRAND_SLUGS, BRANDS, CATEGORY_TREE, PALETTES

BATCH = 2000
ACTOR = Actor.system("load_demo")


@dataclass(frozen=True, slots=True)
class DemoResult:
    loaded: bool  # False: the demo data was already there
    products: int
    skus: int
    seconds: float
    stock_levels: int = 0  # also set when only the stock was missing (an older demo)


def demo_present() -> bool:
    return Brand.objects.filter(slug__in=BRAND_SLUGS).exists()


def load_demo(
    *, products: int, seed: int, progress: bool = True, out: Callable[[str], None] = print
) -> DemoResult:
    started = time.perf_counter()
    if demo_present():
        # A demo loaded before stock existed gets its stock now; otherwise nothing to do.
        levels = 0
        if not demo_stock_present():
            levels = load_demo_stock(seed=seed, progress=progress, out=out).levels
        return DemoResult(
            loaded=False,
            products=0,
            skus=0,
            seconds=time.perf_counter() - started,
            stock_levels=levels,
        )
    # Categories commit first, on their own: the search index reacts to new categories
    # (CategoriesChanged) by re-indexing their products, which must not yet exist.
    with transaction.atomic():
        category_ids = _create_categories()
    with transaction.atomic():  # all or nothing: the brands mark the demo as loaded
        brand_ids = _create_brands()
        out(f"brands: {len(brand_ids)}, categories: {len(category_ids)}")
        images = ensure_placeholders(media_root=Path(settings.MEDIA_ROOT), pairs=_image_pairs())
        out(f"placeholder images: {len(images)} under {settings.MEDIA_ROOT}")
        sku_count = _create_products(
            count=products,
            seed=seed,
            brand_ids=brand_ids,
            category_ids=category_ids,
            images=images,
            progress=progress,
        )
        locations = _create_locations()
        out(f"products: {products}, SKUs: {sku_count}, new stock locations: {locations}")
        stock = load_demo_stock(seed=seed, progress=progress, out=out)
        # Storefront caches start over; the search index is rebuilt once, below.
        services.notify_catalog_changed()
    analyze([Brand, Category, Product, Sku, Price, ProductImage, StockLocation])
    _rebuild_search_index(out)
    return DemoResult(
        loaded=True,
        products=products,
        skus=sku_count,
        seconds=time.perf_counter() - started,
        stock_levels=stock.levels,
    )


def _create_brands() -> dict[str, int]:
    Brand.objects.bulk_create(
        [
            Brand(
                slug=b.slug,
                name_en=b.name_en,
                name_zh=b.name_zh,
                description_en=b.description_en,
                description_zh=b.description_zh,
                online_only=b.online_only,
            )
            for b in BRANDS
        ]
    )
    return dict(Brand.objects.filter(slug__in=BRAND_SLUGS).values_list("slug", "id"))


def _category(
    parent: Category | None,
    slug: str,
    name_en: str,
    name_zh: str,
    featured: bool,
    existing: dict[str, Category],
) -> Category:
    full_slug = f"{parent.full_slug}/{slug}" if parent else slug
    if full_slug in existing:  # a shop that already has this category keeps it
        return existing[full_slug]
    return services.create_category(
        parent=parent,
        slug=slug,
        name_en=name_en,
        name_zh=name_zh,
        actor=ACTOR,
        is_featured=featured,
    )


def _create_categories() -> dict[str, int]:
    """The three-level tree; returns {leaf full_slug: id}."""
    existing = {c.full_slug: c for c in Category.objects.all()}
    leaves: dict[str, int] = {}
    for root in CATEGORY_TREE:
        root_node = _category(None, root.slug, root.name_en, root.name_zh, root.featured, existing)
        for branch in root.branches:
            branch_node = _category(
                root_node, branch.slug, branch.name_en, branch.name_zh, branch.featured, existing
            )
            for leaf in branch.leaves:
                node = _category(
                    branch_node, leaf.slug, leaf.name_en, leaf.name_zh, leaf.featured, existing
                )
                leaves[node.full_slug] = node.pk
    return leaves


def _image_pairs() -> Iterator[tuple[str, str]]:
    for root in CATEGORY_TREE:
        for branch in root.branches:
            for leaf in branch.leaves:
                for colour in PALETTES[branch.kind]:
                    yield (leaf.shape, colour)


def _create_products(
    *,
    count: int,
    seed: int,
    brand_ids: dict[str, int],
    category_ids: dict[str, int],
    images: dict[tuple[str, str], str],
    progress: bool,
) -> int:
    price_lists = dict(
        PriceList.objects.filter(code__in=(ONLINE, STORES)).values_list("code", "id")
    )
    storefront_list = (
        PriceList.objects.filter(channel__code=settings.STOREFRONT_CHANNEL)
        .values_list("code", flat=True)
        .first()
    )
    now = clock.now()
    generator = ProductGenerator(seed=seed, now=now)
    batch = _Batch(brand_ids, category_ids, images, price_lists, storefront_list, now)
    sku_count = 0
    with tqdm(total=count, unit="product", desc="demo products", disable=not progress) as bar:
        for start in range(1, count + 1, BATCH):
            specs = [generator.product(n) for n in range(start, min(start + BATCH, count + 1))]
            sku_count += batch.insert(specs)
            bar.update(len(specs))
    return sku_count


@dataclass(frozen=True, slots=True)
class _Batch:
    brand_ids: dict[str, int]
    category_ids: dict[str, int]
    images: dict[tuple[str, str], str]
    price_lists: dict[str, int]
    storefront_list: str | None
    now: datetime

    def insert(self, specs: list[ProductSpec]) -> int:
        """Insert products, then their SKUs, prices and images; returns the SKU count."""
        insert_rows(Product, [self._product_row(spec) for spec in specs], now=self.now)
        product_ids = dict(
            Product.objects.filter(slug__in=[s.slug for s in specs]).values_list("slug", "id")
        )
        insert_rows(
            Sku,
            [
                {
                    "product_id": product_ids[spec.slug],
                    "code": sku.code,
                    "barcode": sku.barcode,
                    "size": sku.size,
                    "colour": sku.colour,
                    "position": sku.position,
                }
                for spec in specs
                for sku in spec.skus
            ],
            now=self.now,
        )
        sku_ids = dict(
            Sku.objects.filter(product_id__in=product_ids.values()).values_list("code", "id")
        )
        insert_rows(
            Price,
            [
                {
                    "price_list_id": list_id,
                    "sku_id": sku_ids[sku.code],
                    "list_price": sku.prices[code][0],
                    "sale_price": sku.prices[code][1],
                }
                for spec in specs
                for sku in spec.skus
                for code, list_id in self.price_lists.items()
            ],
            now=self.now,
        )
        insert_rows(
            ProductImage,
            [
                {
                    "product_id": product_ids[spec.slug],
                    "image": self.images[(spec.shape, colour)],
                    "width": WIDTH,
                    "height": HEIGHT,
                    "colour": colour,
                    "position": position,
                    "alt_en": f"{spec.name_en}, {domain.COLOURS[colour].name_en.lower()}",
                    "alt_zh": f"{spec.name_zh}（{domain.COLOURS[colour].name_zh}）",
                }
                for spec in specs
                for position, colour in enumerate(spec.colours)
            ],
            now=self.now,
        )
        return len(sku_ids)

    def _product_row(self, spec: ProductSpec) -> dict[str, object]:
        # Display prices are known here, so no refresh_display_prices pass is needed.
        offers = (
            [sku.prices[self.storefront_list] for sku in spec.skus]
            if self.storefront_list in (ONLINE, STORES)
            else []
        )
        display_price, display_list_price = domain.lowest_prices(offers)
        return {
            "slug": spec.slug,
            "brand_id": self.brand_ids[spec.brand_slug],
            "category_id": self.category_ids[spec.category_full_slug],
            "name_en": spec.name_en,
            "name_zh": spec.name_zh,
            "description_en": spec.description_en,
            "description_zh": spec.description_zh,
            "attributes": spec.attributes,
            "popularity": spec.popularity,
            "created_at": spec.created_at,
            "updated_at": self.now,
            "display_price": display_price,
            "display_list_price": display_list_price,
        }


def _create_locations() -> int:
    # Stock locations belong to inventory, which has no write service yet (issue #3);
    # the demo seeds them directly, once, and never touches rows that already exist.
    existing = set(StockLocation.objects.values_list("code", flat=True))
    rows = [
        StockLocation(
            code=row.code,
            kind=row.kind,
            name_en=row.name_en,
            name_zh=row.name_zh,
            city=row.city,
            address=row.address,
            latitude=row.latitude,
            longitude=row.longitude,
            opening_hours=row.opening_hours,
            can_ship=row.can_ship,
            offers_pickup=row.offers_pickup,
            priority=row.priority,
        )
        for row in LOCATIONS
        if row.code not in existing
    ]
    StockLocation.objects.bulk_create(rows)
    return len(rows)


def _rebuild_search_index(out: Callable[[str], None]) -> None:
    if "rebuild_search_index" not in get_commands():
        out("search index: the rebuild_search_index command is not installed yet; skipped")
        return
    call_command("rebuild_search_index")
