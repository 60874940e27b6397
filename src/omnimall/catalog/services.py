"""Every catalog write: audited, and followed by cache invalidation and re-indexing.

Staff edits (admin, CSV import) and programmatic ones go through here, so the audit trail,
the storefront cache and the search index can never miss a change.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models, transaction

from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.core.cache_versions import bump_version
from omnimall.core.errors import ConflictError, ValidationFailedError
from omnimall.core.events import publish_on_commit

from . import domain
from .events import CategoriesChanged, ProductsChanged
from .models import Brand, Category, Price, PriceList, Product, ProductImage, Sku

CATALOG_CACHE_NAMESPACE = "catalog"


def _product_ids_of(instance: models.Model) -> tuple[int, ...]:
    if isinstance(instance, Product):
        return (instance.pk,)
    if isinstance(instance, Sku | ProductImage):
        return (instance.product_id,)
    if isinstance(instance, Price):
        return (Sku.objects.filter(pk=instance.sku_id).values_list("product_id", flat=True)[0],)
    if isinstance(instance, Brand):
        # Brand names are indexed with each product, so a rename re-indexes its products.
        return tuple(Product.objects.filter(brand_id=instance.pk).values_list("pk", flat=True))
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
    parent = Category.objects.get_parent(category)
    prefix = f"{parent.full_slug}/" if parent else ""
    Category.objects.filter(pk=category.pk).update(full_slug=prefix + category.slug)
    for child in Category.objects.get_children(category):
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
    category = (
        Category.objects.add_child(parent, values) if parent else Category.objects.add_root(values)
    )
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
    if isinstance(instance, Category) and instance.pk is None:
        raise ValueError("Create categories with create_category (they are tree nodes).")
    _created, changes = audit.save_with_audit(
        instance=instance, actor=actor, reason=reason, action=action
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
    audit.delete_with_audit(instance=instance, actor=actor, reason=reason)
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


# --- category placement (admin tree: create at a position, move) -------------------------

CHILD_POSITIONS = frozenset({"first-child", "last-child", "sorted-child"})
SIBLING_POSITIONS = frozenset({"first-sibling", "left", "right", "last-sibling", "sorted-sibling"})


def category_parent_for(*, target: Category | None, position: str) -> Category | None:
    """The parent a node gets when placed at ``position`` relative to ``target`` (None: root)."""
    if target is None:
        return None
    if position in CHILD_POSITIONS:
        return target
    if position in SIBLING_POSITIONS:
        return Category.objects.get_parent(target)
    raise ValidationFailedError("Unknown tree position.", position=position)


def _full_slug_under(parent: Category | None, slug: str) -> str:
    return f"{parent.full_slug}/{slug}" if parent else slug


def _check_full_slug_free(full_slug: str, *, exclude_pk: int | None = None) -> None:
    taken = Category.objects.filter(full_slug=full_slug).exclude(pk=exclude_pk)
    if taken.exists():
        raise ConflictError("A category already has this URL path.", full_slug=full_slug)


@transaction.atomic
def add_category(
    *,
    instance: Category,
    target: Category | None,
    position: str,
    actor: Actor,
    reason: str = "",
) -> Category:
    """Insert the unsaved ``instance`` into the tree at ``position`` relative to ``target``.

    ``target=None`` makes it the last root. Sets ``full_slug``, audits and notifies.
    """
    parent = category_parent_for(target=target, position=position)
    instance.full_slug = _full_slug_under(parent, instance.slug)
    _check_full_slug_free(instance.full_slug)
    manager = Category.objects
    if target is None:
        manager.add_root(instance=instance)
    elif position in CHILD_POSITIONS:
        manager.add_child(target, instance=instance)
        if position == "first-child":
            manager.move(instance, target, pos="first-child")
    else:
        manager.add_sibling(target, position, instance=instance)
    instance.refresh_from_db()
    audit.record(
        actor=actor,
        action="category.created",
        subject=instance,
        changes=audit.diff({}, audit.snapshot(instance)),
        reason=reason,
    )
    notify_catalog_changed(categories=True)
    return instance


@transaction.atomic
def move_category(
    *,
    category: Category,
    target: Category | None,
    position: str,
    actor: Actor,
    reason: str = "",
) -> Category:
    """Move ``category`` (with its subtree) relative to ``target``; rewrite URL paths.

    ``target=None`` makes it the last root.
    """
    category.refresh_from_db()
    old_parent = Category.objects.get_parent(category)
    old_full_slug = category.full_slug
    new_parent = category_parent_for(target=target, position=position)
    _check_full_slug_free(_full_slug_under(new_parent, category.slug), exclude_pk=category.pk)
    manager = Category.objects
    if target is None:
        last_root = manager.get_last_root_node()
        if last_root is not None and last_root.pk != category.pk:
            manager.move(category, last_root, pos="last-sibling")
    else:
        manager.move(category, target, pos=position)
    _rebuild_full_slugs(category)
    category.refresh_from_db()
    audit.record(
        actor=actor,
        action="category.moved",
        subject=category,
        changes={
            "parent_id": [
                old_parent.pk if old_parent else None,
                new_parent.pk if new_parent else None,
            ],
            "full_slug": [old_full_slug, category.full_slug],
        },
        reason=reason,
    )
    notify_catalog_changed(categories=True)
    return category


# --- batches (CSV import): audit every row, refresh and notify once --------------------


def save_audited_in_batch(
    *,
    instance: models.Model,
    actor: Actor,
    reason: str = "",
    action: str | None = None,
    before: dict[str, Any] | None = None,
) -> tuple[int, ...]:
    """``save_audited`` without the per-row refresh and notification.

    For batch writers such as the CSV import: call inside the batch's transaction, collect
    the returned product ids and call ``finish_catalog_batch`` once at the end. An update
    that changes nothing writes no audit entry. ``before`` is the row as it was read
    (``audit.snapshot``) when the caller already holds it; otherwise it is read here.
    """
    assert transaction.get_connection().in_atomic_block, "call inside a transaction"  # noqa: S101
    model = type(instance)
    if isinstance(instance, Category):
        raise ValueError("Categories are tree nodes: use add_category / save_audited.")
    if before is None:
        existing = (
            None if instance.pk is None else model._default_manager.filter(pk=instance.pk).first()
        )
        before = {} if existing is None else audit.snapshot(existing)
    is_new = not before
    instance.save()
    changes = audit.diff(before, audit.snapshot(instance))
    if not is_new and not changes:
        return ()
    verb = "created" if is_new else "changed"
    audit.record(
        actor=actor,
        action=action or f"{model._meta.model_name}.{verb}",
        subject=instance,
        changes=changes,
        reason=reason,
    )
    if isinstance(instance, Price) and Price.sku.is_cached(instance):
        return (instance.sku.product_id,)  # the importer loaded the SKU already: no query
    return _product_ids_of(instance)


def finish_catalog_batch(*, product_ids: Iterable[int]) -> None:
    """After a batch of audited saves: recompute display prices and notify, once."""
    ids = sorted(set(product_ids))
    refresh_display_prices(product_ids=ids)
    notify_catalog_changed(product_ids=ids)
