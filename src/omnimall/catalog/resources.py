"""CSV import/export of products and prices (django-import-export resources).

An import is all or nothing: any bad row rolls the whole file back, and the admin shows
the row errors. Every row that changes something is audited (who, before/after, reason);
display prices, the catalog cache and the search index are refreshed once per import.

Outside the admin: ``ProductResource(actor=..., reason=...).import_data(dataset, dry_run=...)``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from import_export import fields, resources, widgets

from omnimall.core import audit
from omnimall.core.actors import Actor

from . import services
from .models import Brand, Category, Price, PriceList, Product, Sku

IMPORT_ACTOR = Actor.system("csv-import")


class LookupWidget(widgets.ForeignKeyWidget):
    """A foreign key by a natural code; an unknown code is a row error that names it.

    Lookups are remembered for one import (the row's key is read twice per row, and a
    file names the same few price lists and brands on every line).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache: dict[str, Any] = {}

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        key = str(value).strip() if value is not None else ""
        if key in self.cache:
            return self.cache[key]
        try:
            found = super().clean(value, row, **kwargs)
        except ObjectDoesNotExist:
            name = self.model._meta.verbose_name
            raise ValueError(f"No {name} with {self.field} “{value}”.") from None
        if len(self.cache) < 50_000:
            self.cache[key] = found
        return found


class MoneyWidget(widgets.DecimalWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Decimal | None:
        try:
            return super().clean(value, row, **kwargs)
        except (InvalidOperation, ValueError):
            raise ValueError(f"“{value}” is not an amount.") from None


class _AuditedResource(resources.ModelResource):
    """Saves rows through ``catalog.services`` and refreshes the catalog once at the end."""

    def __init__(self, *, actor: Actor | None = None, reason: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.actor = actor
        self.reason = reason
        self._changed_product_ids: set[int] = set()
        self._before: dict[str, Any] = {}

    def import_data(self, dataset: Any, **kwargs: Any) -> Any:
        # All or nothing, whoever calls: one bad row (a validation error included) rolls back
        # every row, instead of import-export's default of keeping the good ones.
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def _actor(self, kwargs: dict[str, Any]) -> Actor:
        if self.actor is not None:
            return self.actor
        user = kwargs.get("user")
        return Actor.from_user(user) if user is not None else IMPORT_ACTOR

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self._changed_product_ids = set()
        for field in self.fields.values():
            if isinstance(field.widget, LookupWidget):
                field.widget.cache.clear()
        super().before_import(dataset, **kwargs)

    def validate_instance(
        self,
        instance: models.Model,
        import_validation_errors: Any = None,
        validate_unique: bool = True,
    ) -> None:
        # The foreign keys came from LookupWidget, which has just found them: skip
        # full_clean's second existence query per key and row. Values and check constraints
        # are still validated; uniqueness of the looked-up key is what found the row.
        errors = dict(import_validation_errors or {})
        lookups = [
            field.attribute
            for field in self.fields.values()
            if isinstance(field.widget, LookupWidget) and field.attribute
        ]
        try:
            instance.full_clean(exclude=[*errors, *lookups], validate_unique=validate_unique)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def after_init_instance(
        self, instance: models.Model, new: bool, row: Any, **kwargs: Any
    ) -> None:
        # The row as loaded, before the file's values land on it: the audit's "before".
        self._before = {} if new else audit.snapshot(instance)
        super().after_init_instance(instance, new, row, **kwargs)

    def do_instance_save(self, instance: models.Model, is_create: bool) -> None:
        # Unreachable: save_instance below saves through catalog.services (audited, with
        # the actor); this guard stops a future import-export path from bypassing it.
        raise RuntimeError("catalog imports save through catalog.services.save_audited_in_batch")

    def save_instance(
        self, instance: models.Model, is_create: bool, row: Any, **kwargs: Any
    ) -> None:
        self.before_save_instance(instance, row, **kwargs)
        product_ids = services.save_audited_in_batch(
            instance=instance,
            actor=self._actor(kwargs),
            reason=kwargs.get("change_reason") or self.reason or "CSV import",
            action=f"{instance._meta.model_name}.imported",
            before=self._before,
        )
        self._changed_product_ids.update(product_ids)
        self.after_save_instance(instance, row, **kwargs)

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return  # rolled back anyway
        if self._changed_product_ids:
            services.finish_catalog_batch(product_ids=self._changed_product_ids)


class ProductResource(_AuditedResource):
    slug = fields.Field(attribute="slug", column_name="slug")
    brand = fields.Field(attribute="brand", column_name="brand", widget=LookupWidget(Brand, "slug"))
    category = fields.Field(
        attribute="category",
        column_name="category",
        widget=LookupWidget(Category, "full_slug"),
    )
    is_active = fields.Field(
        attribute="is_active", column_name="active", widget=widgets.BooleanWidget()
    )

    class Meta:
        model = Product
        fields = (
            "slug",
            "brand",
            "category",
            "name_en",
            "name_zh",
            "description_en",
            "description_zh",
            "is_active",
        )
        import_id_fields = ("slug",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_bulk = False

    def get_queryset(self) -> Any:
        return Product.objects.select_related("brand", "category").order_by("pk")


class PriceResource(_AuditedResource):
    price_list = fields.Field(
        attribute="price_list",
        column_name="price_list",
        widget=LookupWidget(PriceList, "code"),
    )
    sku = fields.Field(attribute="sku", column_name="sku", widget=LookupWidget(Sku, "code"))
    list_price = fields.Field(
        attribute="list_price", column_name="list_price", widget=MoneyWidget()
    )
    sale_price = fields.Field(
        attribute="sale_price", column_name="sale_price", widget=MoneyWidget()
    )

    class Meta:
        model = Price
        fields = ("price_list", "sku", "list_price", "sale_price")
        import_id_fields = ("price_list", "sku")
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_bulk = False

    def get_queryset(self) -> Any:
        return Price.objects.select_related("price_list", "sku").order_by("pk")
