"""CSV import/export of products and prices: all or nothing, audited, display prices refreshed."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import tablib
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from omnimall.catalog import services as catalog_services
from omnimall.catalog.models import Price, Product
from omnimall.catalog.resources import PriceResource, ProductResource
from omnimall.core.actors import Actor
from omnimall.core.cache_versions import current_version
from omnimall.core.models import AuditEntry

from .factories import BrandFactory, make_category, make_product

pytestmark = pytest.mark.django_db

PRODUCT_HEADERS = (
    "slug",
    "brand",
    "category",
    "name_en",
    "name_zh",
    "description_en",
    "description_zh",
    "active",
)
PRICE_HEADERS = ("price_list", "sku", "list_price", "sale_price")
IMPORTER = Actor(kind="user", id=None, label="merch-anna")


@pytest.fixture
def catalog():
    clothing = make_category("clothing")
    tops = make_category("tops", parent=clothing)
    brand = BrandFactory(slug="north")
    shirt = make_product(
        category=tops,
        brand=brand,
        slug="linen-shirt",
        variants=(("M", "white", "299.00"), ("L", "white", "299.00")),
    )
    return {"tops": tops, "brand": brand, "shirt": shirt}


def dataset(headers, *rows):
    return tablib.Dataset(*rows, headers=headers)


def csv_bytes(headers, *rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode()


def export_form_data(client, url):
    """The export form as offered: every column ticked, CSV chosen."""
    form = client.get(url).context["form"]
    data = {name: "on" for name, field in form.fields.items() if field.initial is True}
    data["format"] = "0"
    return data


def test_price_import_dry_run_reports_bad_row_and_writes_nothing_when_one_row_is_bad(catalog):
    skus = list(catalog["shirt"].skus.order_by("code"))
    entries_before = AuditEntry.objects.count()
    data = dataset(
        PRICE_HEADERS,
        ("online", skus[0].code, "259.00", ""),
        ("online", skus[1].code, "100.00", "150.00"),  # sale above list: refused
    )

    result = PriceResource(actor=IMPORTER).import_data(data, dry_run=True)

    assert result.has_validation_errors()
    assert [row.number for row in result.invalid_rows] == [2]
    assert Price.objects.get(sku=skus[0]).list_price == Decimal("299.00")
    assert AuditEntry.objects.count() == entries_before


@pytest.mark.parametrize(
    "bad_row",
    [
        ("online", "NO-SUCH-SKU", "10.00", ""),  # an error (unknown SKU)
        ("online", "{sku}", "100.00", "150.00"),  # a validation error (sale above list)
        ("online", "{sku}", "-5.00", ""),  # a validation error (negative price)
    ],
)
def test_price_import_writes_nothing_when_a_row_is_bad_even_without_dry_run(catalog, bad_row):
    skus = list(catalog["shirt"].skus.order_by("code"))
    data = dataset(
        PRICE_HEADERS,
        ("online", skus[0].code, "259.00", ""),
        tuple(value.format(sku=skus[1].code) for value in bad_row),
    )

    result = PriceResource(actor=IMPORTER).import_data(data, dry_run=False)

    assert result.has_errors() or result.has_validation_errors()
    assert Price.objects.get(sku=skus[0]).list_price == Decimal("299.00")
    assert not AuditEntry.objects.filter(action="price.imported").exists()


def test_price_import_reports_row_when_amount_is_not_a_number(catalog):
    sku = catalog["shirt"].skus.first()

    result = PriceResource(actor=IMPORTER).import_data(
        dataset(PRICE_HEADERS, ("online", sku.code, "cheap", "")), dry_run=True
    )

    assert result.has_validation_errors()
    assert "not an amount" in str(result.invalid_rows[0].error_dict)


def test_price_import_writes_prices_audits_rows_and_refreshes_display_price(catalog, monkeypatch):
    shirt = catalog["shirt"]
    skus = list(shirt.skus.order_by("code"))
    version_before = current_version("catalog")
    bumps: list[str] = []
    bump = catalog_services.bump_version
    monkeypatch.setattr(
        catalog_services, "bump_version", lambda ns: (bumps.append(ns), bump(ns))[-1]
    )
    data = dataset(
        PRICE_HEADERS,
        ("online", skus[0].code, "299.00", "199.00"),
        ("online", skus[1].code, "299.00", ""),  # unchanged: skipped, not audited
        ("stores", skus[1].code, "279.00", ""),  # new price in another list
    )

    result = PriceResource(actor=IMPORTER, reason="spring sale").import_data(data, dry_run=False)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert Price.objects.get(sku=skus[0], price_list__code="online").sale_price == Decimal("199.00")
    assert Price.objects.get(sku=skus[1], price_list__code="stores").list_price == Decimal("279.00")
    entries = AuditEntry.objects.filter(action="price.imported")
    assert entries.count() == 2
    assert {e.reason for e in entries} == {"spring sale"}
    assert {e.actor_label for e in entries} == {"merch-anna"}
    changed = entries.get(changes__has_key="sale_price")
    assert changed.changes["sale_price"] == [None, "199.00"]
    shirt.refresh_from_db()
    assert shirt.display_price == Decimal("199.00")
    assert bumps == ["catalog"]  # once per import, not per row
    assert current_version("catalog") != version_before


def test_product_import_creates_and_updates_products_with_audit_entries(catalog):
    data = dataset(
        PRODUCT_HEADERS,
        (
            "linen-shirt",
            "north",
            "clothing/tops",
            "Linen shirt",
            "亚麻衬衫",
            "Cool.",
            "凉爽。",
            "1",
        ),
        ("silk-scarf", "north", "clothing/tops", "Silk scarf", "真丝围巾", "", "", "0"),
    )

    result = ProductResource(actor=IMPORTER).import_data(data, dry_run=False)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    scarf = Product.objects.get(slug="silk-scarf")
    assert scarf.name_zh == "真丝围巾"
    assert scarf.is_active is False
    assert scarf.category == catalog["tops"]
    assert Product.objects.get(slug="linen-shirt").name_en == "Linen shirt"
    actions = sorted(
        AuditEntry.objects.filter(action="product.imported").values_list("subject_repr", flat=True)
    )
    assert actions == ["Linen shirt", "Silk scarf"]


def test_product_import_reports_unknown_brand_and_category_without_writing(catalog):
    data = dataset(
        PRODUCT_HEADERS,
        ("new-thing", "no-such-brand", "no/such/path", "New", "新", "", "", "1"),
    )

    result = ProductResource(actor=IMPORTER).import_data(data, dry_run=True)

    assert result.has_validation_errors()
    errors = result.invalid_rows[0].error_dict
    assert "brand" in errors
    assert "category" in errors
    assert not Product.objects.filter(slug="new-thing").exists()


def test_product_export_returns_csv_with_brand_slug_and_category_path(admin_client, catalog):
    url = "/admin/catalog/product/export/"

    response = admin_client.post(url, export_form_data(admin_client, url))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        {
            "slug": "linen-shirt",
            "brand": "north",
            "category": "clothing/tops",
            "name_en": catalog["shirt"].name_en,
            "name_zh": catalog["shirt"].name_zh,
            "description_en": "A product.",
            "description_zh": "一件商品。",
            "active": "1",
        }
    ]


def test_price_export_returns_csv_rows_for_each_price(admin_client, catalog):
    url = "/admin/catalog/price/export/"

    response = admin_client.post(url, export_form_data(admin_client, url))

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert {r["price_list"] for r in rows} == {"online"}
    assert {r["list_price"] for r in rows} == {"299.00"}


def test_admin_price_import_previews_then_confirms_and_audits_as_staff_user(admin_client, catalog):
    sku = catalog["shirt"].skus.order_by("code").first()
    upload = SimpleUploadedFile(
        "prices.csv",
        csv_bytes(PRICE_HEADERS, ("online", sku.code, "299.00", "249.00")),
        content_type="text/csv",
    )

    preview = admin_client.post(
        "/admin/catalog/price/import/",
        {"import_file": upload, "format": "0", "change_reason": "weekend promo"},
    )

    assert preview.status_code == 200
    confirm_form = preview.context["confirm_form"]
    assert confirm_form is not None
    assert Price.objects.get(sku=sku, price_list__code="online").sale_price is None  # dry run
    confirm_data = {name: confirm_form[name].value() for name in confirm_form.fields}

    done = admin_client.post("/admin/catalog/price/process_import/", confirm_data)

    assert done.status_code == 302
    assert Price.objects.get(sku=sku, price_list__code="online").sale_price == Decimal("249.00")
    entry = AuditEntry.objects.get(action="price.imported")
    assert entry.actor_label == "admin"
    assert entry.reason == "weekend promo"
    catalog["shirt"].refresh_from_db()
    assert catalog["shirt"].display_price == Decimal("249.00")


def test_admin_product_import_shows_row_errors_and_no_confirm_when_a_row_is_bad(
    admin_client, catalog
):
    upload = SimpleUploadedFile(
        "products.csv",
        csv_bytes(
            PRODUCT_HEADERS,
            ("good-one", "north", "clothing/tops", "Good", "好", "", "", "1"),
            ("bad-one", "north", "no/such/path", "Bad", "坏", "", "", "1"),
        ),
        content_type="text/csv",
    )

    response = admin_client.post(
        "/admin/catalog/product/import/", {"import_file": upload, "format": "0"}
    )

    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    assert response.context["result"].has_validation_errors()
    assert "no/such/path" in response.content.decode()
    assert not Product.objects.filter(slug__in=["good-one", "bad-one"]).exists()


def test_admin_import_is_forbidden_when_staff_may_only_view(client, catalog):
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename="view_price"))
    client.force_login(user)

    response = client.get("/admin/catalog/price/import/")

    assert response.status_code == 403


def test_admin_import_confirm_refuses_a_file_name_it_did_not_issue(admin_client, catalog):
    response = admin_client.post(
        "/admin/catalog/price/process_import/",
        {"import_file_name": "../../etc/passwd", "original_file_name": "x.csv", "format": "0"},
    )

    assert response.status_code == 200
    assert "import_file_name" in response.context["confirm_form"].errors


def test_admin_import_confirm_asks_for_a_new_upload_when_confirmed_twice(admin_client, catalog):
    sku = catalog["shirt"].skus.order_by("code").first()
    upload = SimpleUploadedFile(
        "prices.csv", csv_bytes(PRICE_HEADERS, ("online", sku.code, "299.00", "249.00"))
    )
    preview = admin_client.post(
        "/admin/catalog/price/import/", {"import_file": upload, "format": "0"}
    )
    confirm_form = preview.context["confirm_form"]
    confirm_data = {name: confirm_form[name].value() for name in confirm_form.fields}
    admin_client.post("/admin/catalog/price/process_import/", confirm_data)

    again = admin_client.post("/admin/catalog/price/process_import/", confirm_data)

    assert again.status_code == 302
    assert again["Location"].endswith("/admin/catalog/price/import/")
    assert AuditEntry.objects.filter(action="price.imported").count() == 1
