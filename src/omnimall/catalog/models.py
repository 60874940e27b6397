from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


def _in_language(obj: object, field: str) -> str:
    """The Chinese or English text of a bilingual field, falling back to the other."""
    zh, en = getattr(obj, f"{field}_zh"), getattr(obj, f"{field}_en")
    if (get_language() or "zh-hans").startswith("zh"):
        return zh or en
    return en or zh


class Brand(models.Model):
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    # A "new brand" sold only online, never through the stores.
    online_only = models.BooleanField(_("online only"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name_en"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _in_language(self, "name")


class Category(MP_Node):
    slug = models.SlugField(_("slug"), max_length=80)
    # Slugs from the root down, joined by "/": the storefront URL /c/<full_slug>/.
    # Maintained by catalog.services when a category is created, renamed or moved.
    full_slug = models.CharField(_("URL path"), max_length=255, unique=True, editable=False)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    is_featured = models.BooleanField(_("featured on home"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    node_order_by = None

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return _in_language(self, "name")

    @property
    def description(self) -> str:
        return _in_language(self, "description")


class Product(models.Model):
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="products"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="products"
    )
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    # [{"name_en": "Material", "name_zh": "材质", "value_en": "Cotton", "value_zh": "棉"}, …]
    attributes = models.JSONField(_("attributes"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Units sold recently; drives "popular" sorting. Later issues feed it from orders.
    popularity = models.PositiveIntegerField(_("popularity"), default=0)
    # Lowest current price of the product's SKUs in the storefront channel's price list.
    # Denormalised so that listings sort and filter by price with an index; kept in step
    # by catalog.services.refresh_display_prices whenever a price or SKU changes.
    display_price = models.DecimalField(
        _("price from"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    display_list_price = models.DecimalField(
        _("list price from"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["-popularity", "id"]
        indexes = [
            models.Index(fields=["category", "-popularity", "-id"], name="product_cat_pop_idx"),
            models.Index(fields=["category", "display_price", "id"], name="product_cat_price_idx"),
            models.Index(fields=["category", "-created_at", "-id"], name="product_cat_new_idx"),
            models.Index(fields=["-popularity", "-id"], name="product_pop_idx"),
            models.Index(fields=["display_price", "id"], name="product_price_idx"),
            models.Index(fields=["-created_at", "-id"], name="product_new_idx"),
        ]

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return _in_language(self, "name")

    @property
    def description(self) -> str:
        return _in_language(self, "description")


class Sku(models.Model):
    """One sellable variant: a product in one size and one colour."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="skus"
    )
    code = models.CharField(_("SKU code"), max_length=64, unique=True)
    barcode = models.CharField(_("barcode"), max_length=32, unique=True, null=True, blank=True)
    size = models.CharField(_("size"), max_length=20, blank=True, db_index=True)
    # A colour code from catalog.domain.COLOURS ("black", "navy", …), shown translated.
    colour = models.CharField(_("colour"), max_length=30, blank=True, db_index=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["product_id", "position", "id"]

    def __str__(self) -> str:
        return self.code


class ProductImage(models.Model):
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="images"
    )
    image = models.ImageField(
        _("image"), upload_to="products/", width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Optional: the image shows this colour, so the variant picker can switch to it.
    colour = models.CharField(_("colour"), max_length=30, blank=True)
    alt_en = models.CharField(_("alt text (English)"), max_length=200, blank=True)
    alt_zh = models.CharField(_("alt text (Chinese)"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["product_id", "position", "id"]

    def __str__(self) -> str:
        return self.image.name or ""

    @property
    def alt(self) -> str:
        return _in_language(self, "alt")


class PriceList(models.Model):
    """Prices for one sales channel (the online mall, the stores, a marketplace shop)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    channel = models.OneToOneField(
        "sales_channels.SalesChannel",
        verbose_name=_("sales channel"),
        on_delete=models.PROTECT,
        related_name="price_list",
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Price(models.Model):
    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="prices"
    )
    sku = models.ForeignKey(
        Sku, verbose_name=_("SKU"), on_delete=models.CASCADE, related_name="prices"
    )
    list_price = models.DecimalField(_("list price"), max_digits=12, decimal_places=2)
    sale_price = models.DecimalField(
        _("sale price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.UniqueConstraint(fields=["price_list", "sku"], name="price_list_sku_uniq"),
            models.CheckConstraint(condition=Q(list_price__gte=0), name="price_list_price_gte_0"),
            models.CheckConstraint(
                condition=Q(sale_price__isnull=True)
                | (Q(sale_price__gte=0) & Q(sale_price__lte=F("list_price"))),
                name="price_sale_between_0_and_list",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} @ {self.price_list_id}: {self.effective_price}"

    @property
    def effective_price(self) -> Decimal:
        return self.sale_price if self.sale_price is not None else self.list_price


class ListingFacetCache(models.Model):
    """Facet counts of one listing state, shared by every worker process.

    Computing facets over a large category takes a second; without Redis each worker's
    memory cache would compute every state again. Rows carry the catalog version they were
    computed for, so a change never serves stale counts; older rows are only garbage and
    are deleted as each process moves to a new version. Written and read only by
    ``catalog.facets``.
    """

    key = models.CharField(max_length=80, primary_key=True)
    version = models.PositiveBigIntegerField(db_index=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("listing facet cache entry")
        verbose_name_plural = _("listing facet cache")

    def __str__(self) -> str:
        return self.key
