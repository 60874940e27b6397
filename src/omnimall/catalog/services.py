"""Every catalog write: audited, and followed by cache invalidation and re-indexing.

Staff edits (admin, CSV import) and programmatic ones go through here, so the audit trail,
the storefront cache and the search index can never miss a change.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import models, transaction

from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.core.cache_versions import bump_version
from omnimall.core.events import publish_on_commit

from . import domain
from .events import CategoriesChanged, ProductsChanged
from .models import Category, Price, PriceList, Product, ProductImage, Sku

CATALOG_CACHE_NAMESPACE = "catalog"


def _product_ids_of(instance: models.Model) -> tuple[int, ...]:
    if isinstance(instance, Product):
        return (instance.pk,)
    if isinstance(instance, Sku | ProductImage):
        return (instance.product_id,)
    if isinstance(instance, Price):
        return (Sku.objects.filter(pk=instance.sku_id).values_list("product_id", flat=True)[0],)
    return ()


def notify_catalog_changed(*, product_ids: Iterable[int] = (), categories: bool = False) -> None:
    """Invalidate cached pages and re-index the products once the transaction commits."""
    bump_version(CATALOG_CACHE_NAMESPACE)
    ids = tuple(sorted(set(product_ids)))
    if ids:
        publish_on_commit(ProductsChanged(product_ids=ids))
    if categories:
        publish_on_commit(CategoriesChanged())


def refresh_display_prices(*, product_ids: Iterable[int]) -> None:
    """Recompute ``Product.display_price`` from the storefront channel's price list."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    price_list_id = (
        PriceList.objects.filter(channel__code=settings.STOREFRONT_CHANNEL)
        .values_list("id", flat=True)
        .first()
    )
    offers: dict[int, list[tuple[Decimal, Decimal | None]]] = {pid: [] for pid in ids}
    if price_list_id is not None:
        rows = Price.objects.filter(
            price_list_id=price_list_id, sku__product_id__in=ids, sku__is_active=True
        ).values_list("sku__product_id", "list_price", "sale_price")
        for product_id, list_price, sale_price in rows:
            offers[product_id].append((list_price, sale_price))
    products = []
    for product_id, prices in offers.items():
        lowest, lowest_list = domain.lowest_prices(prices)
        products.append(
            Product(pk=product_id, display_price=lowest, display_list_price=lowest_list)
        )
    Product.objects.bulk_update(products, ["display_price", "display_list_price"], batch_size=500)


def _rebuild_full_slugs(category: Category) -> None:
    """Set ``full_slug`` on ``category`` and every descendant (after a rename or move)."""
    category.refresh_from_db()
    parent = category.get_parent()
    prefix = f"{parent.full_slug}/" if parent else ""
    Category.objects.filter(pk=category.pk).update(full_slug=prefix + category.slug)
    for child in category.get_children():
        _rebuild_full_slugs(child)


@transaction.atomic
def create_category(
    *,
    parent: Category | None,
    slug: str,
    name_en: str,
    name_zh: str,
    actor: Actor,
    **fields: object,
) -> Category:
    full_slug = f"{parent.full_slug}/{slug}" if parent else slug
    values: dict[str, object] = {
        "slug": slug,
        "full_slug": full_slug,
        "name_en": name_en,
        "name_zh": name_zh,
    }
    values.update(fields)
    category = parent.add_child(**values) if parent else Category.add_root(**values)
    audit.record(
        actor=actor,
        action="category.created",
        subject=category,
        changes={k: [None, str(v)] for k, v in values.items()},
    )
    notify_catalog_changed(categories=True)
    return category


@transaction.atomic
def save_audited(
    *, instance: models.Model, actor: Actor, reason: str = "", action: str | None = None
) -> models.Model:
    """Save a catalog row edited in a form, with a before/after audit entry."""
    model = type(instance)
    is_new = instance.pk is None or not model._default_manager.filter(pk=instance.pk).exists()
    before = {} if is_new else audit.snapshot(model._default_manager.get(pk=instance.pk))
    if isinstance(instance, Category) and is_new:
        raise ValueError("Create categories with create_category (they are tree nodes).")
    instance.save()
    changes = audit.diff(before, audit.snapshot(instance))
    verb = "created" if is_new else "changed"
    audit.record(
        actor=actor,
        action=action or f"{model._meta.model_name}.{verb}",
        subject=instance,
        changes=changes,
        reason=reason,
    )
    if isinstance(instance, Category) and ({"slug"} & changes.keys()):
        _rebuild_full_slugs(instance)
    product_ids = _product_ids_of(instance)
    if isinstance(instance, Sku | Price | Product):
        refresh_display_prices(product_ids=product_ids)
    notify_catalog_changed(product_ids=product_ids, categories=isinstance(instance, Category))
    return instance


@transaction.atomic
def delete_audited(*, instance: models.Model, actor: Actor, reason: str = "") -> None:
    product_ids = _product_ids_of(instance)
    audit.record(
        actor=actor,
        action=f"{instance._meta.model_name}.deleted",
        subject=instance,
        changes={k: [v, None] for k, v in audit.snapshot(instance).items()},
        reason=reason,
    )
    instance.delete()
    if isinstance(instance, Sku | Price):
        refresh_display_prices(product_ids=product_ids)
    notify_catalog_changed(product_ids=product_ids, categories=isinstance(instance, Category))


@transaction.atomic
def set_price(
    *,
    sku: Sku,
    price_list: PriceList,
    list_price: Decimal,
    sale_price: Decimal | None,
    actor: Actor,
    reason: str = "",
) -> Price:
    price = Price.objects.filter(price_list=price_list, sku=sku).first() or Price(
        price_list=price_list, sku=sku
    )
    price.list_price = list_price
    price.sale_price = sale_price
    save_audited(instance=price, actor=actor, reason=reason, action="price.set")
    return price
