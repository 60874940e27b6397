"""Catalog read side: tree, listings (filters, facets, sorting, keyset pages), product detail."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omnimall.catalog import selectors
from omnimall.catalog.models import Category, Product, ProductImage, Sku
from omnimall.catalog.services import notify_catalog_changed
from tests.catalog.factories import BrandFactory, make_category, make_image, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """clothing > tops > tees, clothing > bottoms; shoes. Two brands, varied variants."""
    clothing = make_category("clothing", name_en="Clothing", is_featured=True)
    tops = make_category("tops", parent=clothing)
    tees = make_category("tees", parent=tops)
    bottoms = make_category("bottoms", parent=clothing)
    shoes = make_category("shoes")
    acme = BrandFactory(slug="acme", name_en="Acme", name_zh="顶点")
    zen = BrandFactory(slug="zen", name_en="Zen", name_zh="禅")
    products = {
        "tee-black": make_product(
            category=tees, brand=acme, popularity=50,
            variants=(("S", "black", "79.00"), ("M", "black", "79.00")),
        ),
        "tee-red": make_product(
            category=tees, brand=zen, popularity=40,
            variants=(("M", "red", "129.00"), ("L", "white", "129.00")),
        ),
        "jeans": make_product(
            category=bottoms, brand=acme, popularity=30,
            variants=(("L", "navy", "399.00"), ("XL", "navy", "399.00")),
        ),
        "shirt": make_product(
            category=tops, brand=zen, popularity=20, variants=(("M", "white", "259.00"),)
        ),
        "boot": make_product(
            category=shoes, brand=acme, popularity=60, variants=(("42", "brown", "1299.00"),)
        ),
    }
    return {"clothing": clothing, "tops": tops, "tees": tees, "bottoms": bottoms,
            "shoes": shoes, "products": products}  # fmt: skip


def _listing(**params):
    category_id = params.pop("category_id", None)
    product_ids = params.pop("product_ids", None)
    raw = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    query = selectors.parse_listing_query(raw, category_id=category_id, product_ids=product_ids)
    return selectors.list_products(query)


def _slugs(page):
    return [card.slug for card in page.items]


def _facet(page, code):
    facet = next(f for f in page.facets if f.code == code)
    return {v.value: (v.count, v.selected) for v in facet.values}


# --- category tree ---------------------------------------------------------------------


def test_get_category_tree_nests_active_categories_in_path_order_when_some_are_inactive(shop):
    Category.objects.filter(pk=shop["bottoms"].pk).update(is_active=False)
    notify_catalog_changed(categories=True)

    tree = selectors.get_category_tree()

    assert [n.full_slug for n in tree] == ["clothing", "shoes"]
    assert [c.full_slug for c in tree[0].children] == ["clothing/tops"]
    assert [c.full_slug for c in tree[0].children[0].children] == ["clothing/tops/tees"]
    assert tree[0].children[0].children[0].depth == 3


def test_get_category_tree_costs_one_query_when_cached(shop, django_assert_num_queries):
    selectors.get_category_tree()

    with django_assert_num_queries(1):  # the catalog cache version only
        tree = selectors.get_category_tree()

    assert len(tree) == 2


def test_get_category_tree_sees_a_new_category_when_the_catalog_changes(shop):
    selectors.get_category_tree()

    make_category("bags")

    assert [n.slug for n in selectors.get_category_tree()] == ["clothing", "shoes", "bags"]


def test_get_category_returns_node_and_ancestors_when_path_is_known(shop):
    node, ancestors = selectors.get_category("clothing/tops/tees")

    assert node.id == shop["tees"].pk
    assert [a.slug for a in ancestors] == ["clothing", "tops"]


@pytest.mark.parametrize("path", ["nope", "clothing/nope", "", "x" * 1000, "clothing//tops"])
def test_get_category_returns_none_when_path_is_unknown(shop, path):
    assert selectors.get_category(path) is None


# --- filtering and facets ---------------------------------------------------------------


def test_list_products_includes_descendant_categories_when_filtering_by_category(shop):
    page = _listing(category_id=shop["clothing"].pk)

    assert _slugs(page) == ["product-0", "product-1", "product-2", "product-3"] or len(
        page.items
    ) == 4
    assert {c.id for c in page.items} == {
        shop["products"][k].pk for k in ("tee-black", "tee-red", "jeans", "shirt")
    }
    assert page.total == 4


def test_list_products_ors_values_within_a_facet_and_ands_across_facets_when_filtering(shop):
    page = _listing(size=["M", "L"], colour="white")

    ids = {c.id for c in page.items}
    assert ids == {shop["products"]["tee-red"].pk, shop["products"]["shirt"].pk}
    assert page.total == 2


def test_list_products_counts_each_facet_with_the_other_facets_applied_when_combined(shop):
    page = _listing(category_id=shop["clothing"].pk, brand="acme", size="M")

    # brand counts ignore the brand filter: size M in clothing → acme tee, zen tee + shirt.
    assert _facet(page, "brand") == {"acme": (1, True), "zen": (2, False)}
    # size counts ignore the size filter: acme clothing → tee (S, M) and jeans (L, XL).
    assert _facet(page, "size") == {
        "S": (1, False), "M": (1, True), "L": (1, False), "XL": (1, False)
    }
    assert _facet(page, "colour") == {"black": (1, False)}
    assert _facet(page, "price") == {"0-100": (1, False)}
    assert page.total == 1


def test_list_products_lists_price_bands_and_colour_labels_when_no_filter_is_set(shop):
    page = _listing()

    assert _facet(page, "price") == {
        "0-100": (1, False), "100-300": (2, False), "300-500": (1, False), "1000-": (1, False)
    }
    colour = next(f for f in page.facets if f.code == "colour")
    assert [v.value for v in colour.values] == ["black", "white", "navy", "red", "brown"]
    assert colour.values[0].label_zh == "黑色"
    sizes = [v.value for v in next(f for f in page.facets if f.code == "size").values]
    assert sizes == ["S", "M", "L", "XL", "42"]


def test_list_products_filters_by_price_band_on_display_price_when_band_selected(shop):
    page = _listing(price=["100-300", "1000-"])

    assert {c.slug for c in page.items} == {
        shop["products"][k].slug for k in ("tee-red", "shirt", "boot")
    }
    assert _facet(page, "price")["100-300"] == (2, True)


def test_list_products_keeps_a_selected_brand_with_zero_count_when_nothing_matches(shop):
    page = _listing(brand="ghost")

    assert page.total == 0
    assert page.items == ()
    assert _facet(page, "brand")["ghost"] == (0, True)


def test_list_products_hides_inactive_products_and_brands_when_listing(shop):
    Product.objects.filter(pk=shop["products"]["boot"].pk).update(is_active=False)
    shop["products"]["jeans"].brand.__class__.objects.filter(slug="zen").update(is_active=False)
    notify_catalog_changed()

    page = _listing()

    assert {c.slug for c in page.items} == {
        shop["products"][k].slug for k in ("tee-black", "jeans")
    }


def test_list_products_returns_an_empty_page_when_category_is_unknown(shop):
    page = _listing(category_id=999_999)

    assert (page.items, page.total, page.page_count) == ((), 0, 1)


# --- cards ---------------------------------------------------------------------------------


def test_list_products_fills_cards_with_prices_first_image_and_colours(shop):
    tee = shop["products"]["tee-red"]
    make_image(tee, name="b.png", position=2)
    make_image(tee, name="a.png", position=1)
    notify_catalog_changed()

    card = next(c for c in _listing().items if c.id == tee.pk)

    assert card.price == Decimal("129.00")
    assert card.image_url.endswith("/products/a.png")
    assert card.colours == ("red", "white")
    assert card.brand_name_en == "Zen"


# --- sorting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("popular", ["boot", "tee-black", "tee-red", "jeans", "shirt"]),
        ("price_asc", ["tee-black", "tee-red", "shirt", "jeans", "boot"]),
        ("price_desc", ["boot", "jeans", "shirt", "tee-red", "tee-black"]),
        ("newest", ["boot", "shirt", "jeans", "tee-red", "tee-black"]),
        ("evil", ["boot", "tee-black", "tee-red", "jeans", "shirt"]),
    ],
)
def test_list_products_orders_items_when_sort_is_given(shop, sort, expected):
    page = _listing(sort=sort)

    names = {p.pk: k for k, p in shop["products"].items()}
    assert [names[c.id] for c in page.items] == expected


def test_list_products_puts_unpriced_products_last_when_sorting_by_price(shop):
    unpriced = make_product(category=shop["shoes"], variants=())
    assert unpriced.display_price is None

    asc = _listing(sort="price_asc")
    desc = _listing(sort="price_desc")

    assert asc.items[-1].id == unpriced.pk
    assert desc.items[-1].id == unpriced.pk


def test_list_products_follows_search_order_when_sort_is_relevance(shop):
    p = shop["products"]
    ids = (p["shirt"].pk, p["boot"].pk, p["tee-black"].pk)

    page = _listing(product_ids=ids)

    assert page.sort == "relevance"
    assert [c.id for c in page.items] == list(ids)
    assert page.total == 3
