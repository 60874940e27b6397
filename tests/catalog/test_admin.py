"""The catalog back office: pages load fast on big tables, edits go through audited services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from omnimall.catalog.models import Category, Price, Product, Sku
from omnimall.core.models import AuditEntry

from .factories import BrandFactory, make_category, make_product, storefront_price_list

pytestmark = pytest.mark.django_db


def admin_form_data(response, **overrides):
    """POST data reproducing an admin change form as rendered (main form + inlines)."""
    context = response.context
    forms = [context["adminform"].form]
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    data = {}
    for form in forms:
        for name, field in form.fields.items():
            key = form.add_prefix(name)
            value = form[name].value()
            if field.disabled:
                continue
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value is not None:
                data[key] = str(value)
    data.update(overrides)
    return data


def make_many_products(count: int) -> list[Product]:
    """``count`` products with two SKUs and storefront prices each, in a few bulk inserts."""
    root = make_category("clothing")
    leaf = make_category("tops", parent=root)
    brand = BrandFactory()
    products = Product.objects.bulk_create(
        Product(
            slug=f"bulk-{n}",
            brand=brand,
            category=leaf,
            name_en=f"Bulk {n}",
            name_zh=f"批量{n}",
            popularity=n,
            display_price=Decimal("99.00"),
        )
        for n in range(count)
    )
    skus = Sku.objects.bulk_create(
        Sku(product=p, code=f"BULK-{p.pk}-{size}", size=size, colour="black")
        for p in products
        for size in ("M", "L")
    )
    price_list = storefront_price_list()
    Price.objects.bulk_create(
        Price(price_list=price_list, sku=sku, list_price=Decimal("99.00")) for sku in skus
    )
    return products


@pytest.fixture
def tree():
    clothing = make_category("clothing")
    tops = make_category("tops", parent=clothing)
    shoes = make_category("shoes")
    return {"clothing": clothing, "tops": tops, "shoes": shoes}


def test_product_changelist_answers_200_with_bounded_queries_when_hundreds_of_rows(
    admin_client, django_assert_max_num_queries
):
    make_many_products(300)

    with django_assert_max_num_queries(8):
        response = admin_client.get("/admin/catalog/product/")

    assert response.status_code == 200
    assert b"Bulk 299" in response.content  # most popular first


def test_price_changelist_answers_200_with_bounded_queries_when_hundreds_of_rows(
    admin_client, django_assert_max_num_queries
):
    make_many_products(200)

    with django_assert_max_num_queries(7):
        response = admin_client.get("/admin/catalog/price/")

    assert response.status_code == 200
    assert b"BULK-" in response.content


def test_sku_changelist_answers_200_with_bounded_queries_when_hundreds_of_rows(
    admin_client, django_assert_max_num_queries
):
    make_many_products(200)

    with django_assert_max_num_queries(7):
        response = admin_client.get("/admin/catalog/sku/")

    assert response.status_code == 200


def test_category_tree_changelist_answers_200_with_bounded_queries(
    admin_client, django_assert_max_num_queries, tree
):
    for n in range(30):
        make_category(f"sub-{n}", parent=tree["clothing"])

    with django_assert_max_num_queries(7):
        response = admin_client.get("/admin/catalog/category/")

    assert response.status_code == 200
    assert b"Clothing" in response.content


def test_product_search_finds_product_when_query_is_an_exact_sku_code(admin_client, tree):
    wanted = make_product(category=tree["tops"], slug="linen-shirt")
    make_product(category=tree["tops"], slug="wool-coat")
    code = wanted.skus.get().code

    response = admin_client.get("/admin/catalog/product/", {"q": code})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]


def test_product_search_finds_product_when_query_is_a_barcode_or_lowercase_code(admin_client, tree):
    wanted = make_product(category=tree["tops"], slug="linen-shirt")
    make_product(category=tree["tops"], slug="wool-coat")
    sku = wanted.skus.get()

    by_barcode = admin_client.get("/admin/catalog/product/", {"q": sku.barcode})
    by_lower_code = admin_client.get("/admin/catalog/product/", {"q": sku.code.lower()})

    assert list(by_barcode.context["cl"].result_list) == [wanted]
    assert list(by_lower_code.context["cl"].result_list) == [wanted]


def test_product_search_matches_chinese_name_when_query_is_not_a_code(admin_client, tree):
    wanted = make_product(category=tree["tops"], name_zh="亚麻衬衫")
    make_product(category=tree["tops"], name_zh="羊毛大衣")

    response = admin_client.get("/admin/catalog/product/", {"q": "亚麻"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_price_search_finds_prices_of_a_sku_by_code_or_code_prefix(admin_client, tree):
    shirt = make_product(
        category=tree["tops"],
        slug="linen-shirt",
        variants=(("M", "white", "10.00"), ("L", "white", "10.00")),
    )
    make_product(category=tree["tops"], slug="wool-coat")
    sku = shirt.skus.order_by("code").first()

    exact = admin_client.get("/admin/catalog/price/", {"q": sku.code})
    prefix = admin_client.get("/admin/catalog/price/", {"q": "LINEN-SHIRT"})

    assert [p.sku for p in exact.context["cl"].result_list] == [sku]
    assert {p.sku.product for p in prefix.context["cl"].result_list} == {shirt}
    assert len(prefix.context["cl"].result_list) == 2


def test_sku_colour_filter_lists_only_skus_of_that_colour(admin_client, tree):
    make_product(category=tree["tops"], variants=(("M", "black", "9.00"), ("M", "red", "9.00")))

    red = admin_client.get("/admin/catalog/sku/", {"colour": "red"})
    junk = admin_client.get("/admin/catalog/sku/", {"colour": "\x00"})

    assert [s.colour for s in red.context["cl"].result_list] == ["red"]
    assert junk.status_code == 200
    assert list(junk.context["cl"].result_list) == []


def test_product_category_filter_includes_subcategories_when_parent_chosen(admin_client, tree):
    in_tops = make_product(category=tree["tops"])
    make_product(category=tree["shoes"])

    response = admin_client.get(
        "/admin/catalog/product/", {"in_category": str(tree["clothing"].pk)}
    )

    assert list(response.context["cl"].result_list) == [in_tops]


def test_product_filter_answers_200_when_category_value_is_garbage(admin_client, tree):
    response = admin_client.get("/admin/catalog/product/", {"in_category": "x'; drop"})

    assert response.status_code == 200


def test_product_change_is_audited_with_reason_when_saved_in_admin(admin_client, tree):
    product = make_product(category=tree["tops"], name_en="Old name")
    url = f"/admin/catalog/product/{product.pk}/change/"
    data = admin_form_data(
        admin_client.get(url), name_en="New name", change_reason="typo in the name"
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    product.refresh_from_db()
    assert product.name_en == "New name"
    entry = AuditEntry.objects.filter(action="product.changed").get()
    assert entry.changes["name_en"] == ["Old name", "New name"]
    assert entry.reason == "typo in the name"
    assert entry.actor_label == "admin"


def test_sku_inline_change_is_audited_when_product_form_saves_it(admin_client, tree):
    product = make_product(category=tree["tops"])
    url = f"/admin/catalog/product/{product.pk}/change/"
    data = admin_form_data(admin_client.get(url), **{"skus-0-size": "XL"})

    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert product.skus.get().size == "XL"
    entry = AuditEntry.objects.get(action="sku.changed")
    assert entry.changes["size"] == ["M", "XL"]


def test_price_change_updates_display_price_when_saved_in_admin(admin_client, tree):
    product = make_product(category=tree["tops"], variants=(("M", "black", "199.00"),))
    price = Price.objects.get(sku__product=product)
    url = f"/admin/catalog/price/{price.pk}/change/"
    data = admin_form_data(admin_client.get(url), sale_price="149.00")

    response = admin_client.post(url, data)

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.display_price == Decimal("149.00")
    assert AuditEntry.objects.filter(action="price.changed").exists()


def test_price_form_shows_error_when_sale_price_exceeds_list_price(admin_client, tree):
    product = make_product(category=tree["tops"], variants=(("M", "black", "199.00"),))
    price = Price.objects.get(sku__product=product)
    url = f"/admin/catalog/price/{price.pk}/change/"
    data = admin_form_data(admin_client.get(url), sale_price="299.00")

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert response.context["errors"]
    price.refresh_from_db()
    assert price.sale_price is None


def test_product_delete_is_audited_when_deleted_in_admin(admin_client, tree):
    product = make_product(category=tree["tops"], slug="to-delete")

    response = admin_client.post(f"/admin/catalog/product/{product.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Product.objects.filter(pk=product.pk).exists()
    entry = AuditEntry.objects.get(action="product.deleted")
    assert entry.changes["slug"] == ["to-delete", None]


def test_bulk_delete_action_audits_each_product_when_used(admin_client, tree):
    products = [make_product(category=tree["tops"]) for _ in range(3)]

    response = admin_client.post(
        "/admin/catalog/product/",
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [str(p.pk) for p in products],
        },
    )

    assert response.status_code == 302
    assert Product.objects.count() == 0
    assert AuditEntry.objects.filter(action="product.deleted").count() == 3


def category_add_data(**fields):
    data = {
        "name_en": "Dresses",
        "name_zh": "连衣裙",
        "slug": "dresses",
        "treebeard_position": "first-child",
        "treebeard_ref_node": "",
    }
    data.update(fields)
    return data


def test_category_created_in_admin_gets_full_slug_under_its_parent(admin_client, tree):
    response = admin_client.post(
        "/admin/catalog/category/add/",
        category_add_data(treebeard_ref_node=str(tree["clothing"].pk), change_reason="new line"),
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    dresses = Category.objects.get(slug="dresses")
    assert dresses.full_slug == "clothing/dresses"
    assert Category.objects.get_parent(dresses) == tree["clothing"]
    assert Category.objects.get_first_child(tree["clothing"]) == dresses
    entry = AuditEntry.objects.filter(action="category.created").latest("id")
    assert entry.reason == "new line"


def test_category_created_in_admin_is_a_root_when_no_reference_node(admin_client, tree):
    response = admin_client.post("/admin/catalog/category/add/", category_add_data())

    assert response.status_code == 302
    assert Category.objects.get(slug="dresses").full_slug == "dresses"


def test_category_create_shows_error_when_url_path_is_taken(admin_client, tree):
    count = Category.objects.count()

    response = admin_client.post(
        "/admin/catalog/category/add/",
        category_add_data(slug="tops", treebeard_ref_node=str(tree["clothing"].pk)),
    )

    assert response.status_code == 200
    assert "slug" in response.context["adminform"].form.errors
    assert Category.objects.count() == count


def test_category_rename_rewrites_descendant_paths_when_slug_changes(admin_client, tree):
    url = f"/admin/catalog/category/{tree['clothing'].pk}/change/"
    data = admin_form_data(admin_client.get(url), slug="apparel")

    response = admin_client.post(url, data)

    assert response.status_code == 302
    tree["tops"].refresh_from_db()
    assert tree["tops"].full_slug == "apparel/tops"


def test_category_move_in_form_rewrites_paths_and_audits_when_parent_changes(admin_client, tree):
    url = f"/admin/catalog/category/{tree['tops'].pk}/change/"
    data = admin_form_data(
        admin_client.get(url),
        treebeard_position="first-child",
        treebeard_ref_node=str(tree["shoes"].pk),
        change_reason="tops belong with shoes",
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302
    tree["tops"].refresh_from_db()
    assert tree["tops"].full_slug == "shoes/tops"
    entry = AuditEntry.objects.get(action="category.moved")
    assert entry.changes["full_slug"] == ["clothing/tops", "shoes/tops"]
    assert entry.reason == "tops belong with shoes"
    assert not AuditEntry.objects.filter(action="category.changed").exists()


def test_category_drag_and_drop_move_keeps_full_slug_right(admin_client, tree):
    response = admin_client.post(
        "/admin/catalog/category/move/",
        {"node": tree["tops"].pk, "target": tree["shoes"].pk, "relation": "child"},
    )

    assert response.status_code == 200
    tree["tops"].refresh_from_db()
    assert tree["tops"].full_slug == "shoes/tops"
    assert AuditEntry.objects.filter(action="category.moved").count() == 1


def test_category_drag_and_drop_refuses_when_path_would_clash(admin_client, tree):
    make_category("tops", parent=tree["shoes"])

    response = admin_client.post(
        "/admin/catalog/category/move/",
        {"node": tree["tops"].pk, "target": tree["shoes"].pk, "relation": "child"},
    )

    assert response.status_code == 400
    tree["tops"].refresh_from_db()
    assert tree["tops"].full_slug == "clothing/tops"


def test_view_only_staff_sees_product_page_without_reason_field(client, tree):
    from django.contrib.auth.models import Permission

    product = make_product(category=tree["tops"])
    user = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__startswith="view_", content_type__app_label="catalog")
    )
    client.force_login(user)

    response = client.get(f"/admin/catalog/product/{product.pk}/change/")

    assert response.status_code == 200
    assert b"change_reason" not in response.content


def test_category_delete_is_refused_when_a_subcategory_still_holds_products(admin_client, tree):
    make_product(category=tree["tops"])
    url = f"/admin/catalog/category/{tree['clothing'].pk}/delete/"

    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 200
    assert response.context["protected"]
    assert Category.objects.filter(pk=tree["tops"].pk).exists()


def test_category_delete_removes_subtree_and_audits_when_it_holds_no_products(admin_client, tree):
    url = f"/admin/catalog/category/{tree['clothing'].pk}/delete/"

    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Category.objects.filter(slug__in=["clothing", "tops"]).exists()
    assert AuditEntry.objects.filter(action="category.deleted").count() == 1


def png_upload(name: str = "new.png"):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "navy").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_product_page_previews_images_and_links_to_the_shop(admin_client, tree):
    from .factories import make_image

    product = make_product(category=tree["tops"], slug="linen-shirt")
    image = make_image(product)

    response = admin_client.get(f"/admin/catalog/product/{product.pk}/change/")

    html = response.content.decode()
    assert f'<img src="{image.image.url}"' in html
    assert 'href="/p/linen-shirt/"' in html  # "view on site"


def test_image_uploaded_in_product_inline_is_saved_with_size_and_audited(admin_client, tree):
    product = make_product(category=tree["tops"])
    url = f"/admin/catalog/product/{product.pk}/change/"
    data = admin_form_data(
        admin_client.get(url),
        **{
            "images-TOTAL_FORMS": "1",
            "images-0-image": png_upload(),
            "images-0-position": "0",
            "images-0-product": str(product.pk),
            "images-0-colour": "navy",
        },
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302
    image = product.images.get()
    assert (image.width, image.height) == (8, 6)
    assert AuditEntry.objects.filter(action="productimage.created").exists()
