"""Catalog back office: brands, the category tree, products, SKUs, images, price lists, prices.

Every write goes through ``catalog.services`` (audited, then cache and search refreshed).
Pages stay fast with 100,000 products: joins decided up front (``list_select_related``),
raw-id inputs for product foreign keys, indexed look-ups for pasted SKU codes, filters
whose choices never come from a DISTINCT scan, and one ``COUNT(*)`` a page, not two.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats
from import_export.forms import ConfirmImportForm, ImportForm
from treebeard.admin import TreeAdmin
from treebeard.exceptions import InvalidMoveToDescendant, InvalidPosition, PathOverflow
from treebeard.forms import MoveNodeForm, movenodeform_factory

from omnimall.core.actors import Actor
from omnimall.core.admin import AuditedAdminMixin, ChangeReasonFormMixin, change_reason_of
from omnimall.core.errors import DomainError

from . import domain, services
from .models import Brand, Category, Price, PriceList, Product, ProductImage, Sku
from .resources import PriceResource, ProductResource

if TYPE_CHECKING:
    from django.db import models
    from django.db.models import QuerySet
    from django.http import HttpRequest

TREE_FIELDS = frozenset({"treebeard_ref_node", "treebeard_position"})


class CatalogAuditedAdmin(AuditedAdminMixin, admin.ModelAdmin):
    def audited_save(self, *, instance: models.Model, actor: Actor, reason: str) -> None:
        services.save_audited(instance=instance, actor=actor, reason=reason)

    def audited_delete(self, *, instance: models.Model, actor: Actor, reason: str) -> None:
        services.delete_audited(instance=instance, actor=actor, reason=reason)


# --- CSV import / export ---------------------------------------------------------------


class ReasonImportForm(ImportForm):
    change_reason = forms.CharField(
        label=_("Reason for this change"),
        required=False,
        max_length=500,
        help_text=_("Optional. Recorded in the audit trail for every imported row."),
    )


IMPORT_FILE_SALT = "omnimall.catalog.admin.import-file"
IMPORT_FILE_MAX_AGE = 24 * 3600


class ReasonConfirmImportForm(ConfirmImportForm):
    change_reason = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def clean_import_file_name(self) -> str:
        # The name of the uploaded temp file travels signed, so a crafted form cannot point
        # the import at some other file on the server.
        try:
            name = signing.loads(
                self.cleaned_data["import_file_name"],
                salt=IMPORT_FILE_SALT,
                max_age=IMPORT_FILE_MAX_AGE,
            )
        except signing.BadSignature as exc:
            raise forms.ValidationError(
                _("This import has expired; upload the file again.")
            ) from exc
        return os.path.basename(str(name))


def _exact_sku_ids(term: str) -> list[int]:
    """SKUs whose code or barcode is exactly ``term`` (an indexed lookup, not a scan)."""
    term = term.strip()
    if not term or len(term) > 64 or " " in term:
        return []
    codes = {term, term.upper()}
    return list(
        Sku.objects.filter(Q(code__in=codes) | Q(barcode=term)).values_list("pk", flat=True)[:50]
    )


SKU_PREFIX_LIMIT = 1000


def _sku_ids_by_code_prefix(term: str) -> list[int]:
    """Up to SKU_PREFIX_LIMIT SKUs whose code starts with ``term``.

    A case-sensitive prefix (as typed, and upper-cased), so PostgreSQL answers it from the
    ``varchar_pattern_ops`` index Django creates beside the unique one, not a table scan.
    """
    if len(term) > 64:
        return []
    prefixes = Q(code__startswith=term) | Q(code__startswith=term.upper())
    rows = Sku.objects.filter(prefixes).order_by().values_list("pk", flat=True)
    return list(rows[:SKU_PREFIX_LIMIT])


class CatalogImportExportAdmin(CatalogAuditedAdmin, ImportExportModelAdmin):
    formats = (base_formats.CSV,)
    import_form_class = ReasonImportForm
    confirm_form_class = ReasonConfirmImportForm
    import_error_display = ("message", "row")

    def has_import_permission(self, request: HttpRequest) -> bool:
        # An import adds and changes rows: it needs both rights, not merely admin access.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["change_reason"] = import_form.cleaned_data.get("change_reason", "")
            initial["import_file_name"] = signing.dumps(
                initial["import_file_name"], salt=IMPORT_FILE_SALT
            )
        return initial

    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            return super().process_import(request, **kwargs)
        except FileNotFoundError:  # confirmed twice, or the temp file was cleaned away
            messages.error(request, _("The uploaded file is gone; upload it again."))
            info = (self.opts.app_label, self.opts.model_name)
            return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form")
        reason = change_reason_of(form)
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs["change_reason"] = reason
        return kwargs


# --- brands and categories -------------------------------------------------------------


@admin.register(Brand)
class BrandAdmin(CatalogAuditedAdmin):
    list_display = ("name_en", "name_zh", "slug", "online_only", "is_active")
    list_filter = ("online_only", "is_active")
    search_fields = ("slug", "name_en", "name_zh")
    prepopulated_fields = {"slug": ("name_en",)}


class CategoryForm(ChangeReasonFormMixin, MoveNodeForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        slug = cleaned.get("slug")
        position = cleaned.get("treebeard_position")
        if not slug or not position:
            return cleaned
        instance = self.instance
        adding = instance._state.adding
        moved = adding or bool(TREE_FIELDS & set(self.changed_data))
        try:
            parent = (
                services.category_parent_for(
                    target=cleaned.get("treebeard_ref_node"), position=position
                )
                if moved
                else Category.objects.get_parent(instance)
            )
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        paths = [f"{parent.full_slug}/{slug}" if parent else slug]
        if moved and not adding and slug != instance.slug:
            # A rename is saved before the move: the renamed path must be free where it is now.
            old_parent = Category.objects.get_parent(instance)
            paths.append(f"{old_parent.full_slug}/{slug}" if old_parent else slug)
        taken = Category.objects.filter(full_slug__in=paths).exclude(pk=instance.pk)
        if taken.exists():
            self.add_error(
                "slug",
                _("Another category already has the URL path “%(path)s”.")
                % {"path": taken.values_list("full_slug", flat=True)[0]},
            )
        return cleaned


@admin.register(Category)
class CategoryAdmin(CatalogAuditedAdmin, TreeAdmin):
    form = movenodeform_factory(Category, form=CategoryForm)
    list_display = ("name_en", "name_zh", "full_slug", "is_featured", "is_active")
    list_filter = ("is_featured", "is_active")
    search_fields = ("name_en", "name_zh", "slug", "full_slug")
    readonly_fields = ("full_slug",)
    show_full_result_count = False

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # Deleting a node deletes its subtree: list (and check for protected products) all of
        # it, so a category whose sub-categories still hold products is refused, not a 500.
        nodes = list(objs)
        for obj in list(nodes):
            nodes.extend(Category.objects.get_descendants(obj))
        return super().get_deleted_objects(nodes, request)

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        # MoveNodeForm.save() writes to the tree even with commit=False; the services
        # below do all the writing instead (and keep full_slug right).
        return form.instance

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor = Actor.from_user(request.user)
        reason = change_reason_of(form)
        target = form.cleaned_data.get("treebeard_ref_node")
        position = form.cleaned_data["treebeard_position"]
        if not change:
            services.add_category(
                instance=obj, target=target, position=position, actor=actor, reason=reason
            )
            return
        if set(form.changed_data) - TREE_FIELDS - {"change_reason"}:
            services.save_audited(instance=obj, actor=actor, reason=reason)
        if TREE_FIELDS & set(form.changed_data):
            services.move_category(
                category=obj, target=target, position=position, actor=actor, reason=reason
            )

    def move_node(self, request: HttpRequest) -> HttpResponse:
        """Drag and drop in the tree: like TreeAdmin's, but audited and keeping URL paths."""

        class MoveForm(forms.Form):
            node = forms.ModelChoiceField(queryset=Category.objects.all())
            target = forms.ModelChoiceField(queryset=Category.objects.all())
            relation = forms.ChoiceField(choices=(("child", "child"), ("sibling", "sibling")))

        form = MoveForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest("Invalid form data provided")
        node = form.cleaned_data["node"]
        if not self.has_change_permission(request, node):
            raise PermissionDenied
        position = "last-child" if form.cleaned_data["relation"] == "child" else "left"
        try:
            services.move_category(
                category=node,
                target=form.cleaned_data["target"],
                position=position,
                actor=Actor.from_user(request.user),
            )
        except (DomainError, InvalidMoveToDescendant, InvalidPosition, PathOverflow) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
            return HttpResponseBadRequest("Move refused")
        messages.info(request, _("Moved “%(node)s”.") % {"node": node})
        return HttpResponse("OK")


# --- products, SKUs, images ------------------------------------------------------------


class CategorySubtreeFilter(admin.SimpleListFilter):
    """A category and everything under it (a product sits in a leaf)."""

    title = _("category")
    parameter_name = "in_category"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        rows = Category.objects.order_by("path").values_list("pk", "full_slug")
        return [(str(pk), full_slug) for pk, full_slug in rows]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        path = Category.objects.filter(pk=int(value)).values_list("path", flat=True).first()
        if path is None:
            return queryset.none()
        return queryset.filter(category__path__startswith=path)


COLOUR_CHOICES = [
    ("", "—"),
    *((c.code, f"{c.name_en} / {c.name_zh}") for c in domain.COLOURS.values()),
]


class ColourFilter(admin.SimpleListFilter):
    """Choices from the colour list, not a DISTINCT scan of every SKU."""

    title = _("colour")
    parameter_name = "colour"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(c.code, f"{c.name_en} / {c.name_zh}") for c in domain.COLOURS.values()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(colour=value) if value in domain.COLOURS else queryset.none()


class SkuInlineForm(forms.ModelForm):
    colour = forms.ChoiceField(label=_("colour"), choices=COLOUR_CHOICES, required=False)

    class Meta:
        model = Sku
        fields = ("code", "barcode", "size", "colour", "position", "is_active")


class SkuInline(admin.TabularInline):
    model = Sku
    form = SkuInlineForm
    extra = 0
    show_change_link = True  # its prices are edited on the SKU's page


@admin.display(description=_("preview"))
def image_preview(image: ProductImage) -> str:
    if not image.image:
        return "—"
    return format_html('<img src="{}" alt="" style="max-height:60px">', image.image.url)


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    fields = ("preview", "image", "colour", "alt_en", "alt_zh", "position")
    readonly_fields = ("preview",)
    extra = 0

    @admin.display(description=_("preview"))
    def preview(self, image: ProductImage) -> str:
        return image_preview(image)


@admin.register(Product)
class ProductAdmin(CatalogImportExportAdmin):
    resource_classes = (ProductResource,)
    list_display = (
        "name_en",
        "name_zh",
        "slug",
        "brand",
        "category",
        "display_price",
        "popularity",
        "is_active",
    )
    list_select_related = ("brand", "category")
    list_filter = ("is_active", "brand__online_only", "brand", CategorySubtreeFilter)
    search_fields = ("slug", "name_en", "name_zh")
    search_help_text = _("Slug, name (English or Chinese), or an exact SKU code or barcode.")
    autocomplete_fields = ("brand", "category")
    readonly_fields = (
        "display_price",
        "display_list_price",
        "popularity",
        "created_at",
        "updated_at",
    )
    inlines = (SkuInline, ProductImageInline)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50

    def view_on_site(self, product: Product) -> str:
        return reverse("storefront:product", kwargs={"slug": product.slug})

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # A pasted SKU code or barcode is answered from the unique index; only other
        # terms scan product slugs and names (never the much larger SKU table).
        sku_ids = _exact_sku_ids(search_term)
        if sku_ids:
            product_ids = Sku.objects.filter(pk__in=sku_ids).values("product_id")
            return queryset.filter(pk__in=product_ids), False
        return super().get_search_results(request, queryset, search_term)


class PriceInline(admin.TabularInline):
    model = Price
    fields = ("price_list", "list_price", "sale_price", "updated_at")
    readonly_fields = ("updated_at",)
    extra = 0


@admin.register(Sku)
class SkuAdmin(CatalogAuditedAdmin):
    list_display = ("code", "barcode", "product", "size", "colour", "is_active")
    list_select_related = ("product",)
    list_filter = ("is_active", ColourFilter)
    search_fields = ("=code", "=barcode", "^product__slug")
    raw_id_fields = ("product",)
    inlines = (PriceInline,)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


@admin.register(ProductImage)
class ProductImageAdmin(CatalogAuditedAdmin):
    list_display = ("preview", "image", "product", "colour", "position", "width", "height")
    list_select_related = ("product",)
    search_fields = ("^product__slug",)
    raw_id_fields = ("product",)
    readonly_fields = ("preview",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("preview"))
    def preview(self, image: ProductImage) -> str:
        return image_preview(image)


# --- prices ----------------------------------------------------------------------------


@admin.register(PriceList)
class PriceListAdmin(CatalogAuditedAdmin):
    list_display = ("code", "name", "channel", "currency")
    list_select_related = ("channel",)
    search_fields = ("code", "name")


@admin.register(Price)
class PriceAdmin(CatalogImportExportAdmin):
    resource_classes = (PriceResource,)
    list_display = (
        "sku_code",
        "product_name",
        "price_list",
        "list_price",
        "sale_price",
        "updated_at",
    )
    list_select_related = ("sku__product", "price_list")
    list_filter = ("price_list",)
    search_fields = ("^sku__code", "=sku__barcode")
    search_help_text = _(
        "SKU code (its beginning is enough: the first 1,000 matching SKUs) or exact barcode."
    )
    raw_id_fields = ("sku",)
    readonly_fields = ("updated_at",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    # Grouped by SKU: served by the sku_id index whether the list is searched or not (the
    # default "-pk" makes PostgreSQL walk the whole table backwards to find a searched SKU).
    ordering = ("sku_id", "price_list_id")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()  # the admin's search form has already refused NUL bytes
        if not term:
            return queryset, False
        sku_ids = _exact_sku_ids(term) or _sku_ids_by_code_prefix(term)
        return queryset.filter(sku_id__in=sku_ids), False

    @admin.display(description=_("SKU"), ordering="sku__code")
    def sku_code(self, price: Price) -> str:
        return price.sku.code

    @admin.display(description=_("product"))
    def product_name(self, price: Price) -> str:
        return price.sku.product.name_en
