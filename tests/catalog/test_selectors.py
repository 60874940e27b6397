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
            category=tees,
            brand=acme,
            popularity=50,
            variants=(("S", "black", "79.00"), ("M", "black", "79.00")),
        ),
        "tee-red": make_product(
            category=tees,
            brand=zen,
            popularity=40,
            variants=(("M", "red", "129.00"), ("L", "white", "129.00")),
        ),
        "jeans": make_product(
            category=bottoms,
            brand=acme,
            popularity=30,
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
        "S": (1, False),
        "M": (1, True),
        "L": (1, False),
        "XL": (1, False),
    }
    assert _facet(page, "colour") == {"black": (1, False)}
    assert _facet(page, "price") == {"0-100": (1, False)}
    assert page.total == 1


def test_list_products_lists_price_bands_and_colour_labels_when_no_filter_is_set(shop):
    page = _listing()

    assert _facet(page, "price") == {
        "0-100": (1, False),
        "100-300": (2, False),
        "300-500": (1, False),
        "1000-": (1, False),
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


# --- keyset pagination -------------------------------------------------------------------


@pytest.fixture
def many(shop):
    """23 more products in shoes with tied popularity and prices, some without a price."""
    made = []
    for i in range(23):
        variants = () if i % 7 == 3 else ((str(36 + i % 5), "black", f"{100 + (i % 4) * 50}.00"),)
        made.append(make_product(category=shop["shoes"], popularity=i % 3, variants=variants))
    return made


def _walk(sort, *, page_size, **params):
    """Every page forward, then every page back; returns (forward ids, backward ids, pages)."""
    page = _listing(sort=sort, page_size=str(page_size), **params)
    forward, numbers, pages = [], [], [page]
    while True:
        forward.extend(c.id for c in page.items)
        numbers.append(page.page_number)
        if not page.next_cursor:
            break
        page = _listing(sort=sort, page_size=str(page_size), cursor=page.next_cursor, **params)
        pages.append(page)
    backward = [c.id for c in page.items]
    while page.prev_cursor:
        page = _listing(sort=sort, page_size=str(page_size), cursor=page.prev_cursor, **params)
        backward = [c.id for c in page.items] + backward
        numbers.append(page.page_number)
    return forward, backward, numbers


@pytest.mark.parametrize("sort", ["popular", "price_asc", "price_desc", "newest"])
def test_list_products_walks_every_row_once_both_ways_when_following_cursors(shop, many, sort):
    everything = [c.id for c in _listing(sort=sort, page_size="60").items]
    assert len(everything) == 28

    forward, backward, numbers = _walk(sort, page_size=5, category_id=None)

    assert forward == everything
    assert backward == everything
    assert numbers == [1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1]


def test_list_products_pages_search_results_by_rank_when_sort_is_relevance(shop, many):
    ids = tuple(p.pk for p in reversed(many))[:17]

    forward, backward, numbers = _walk("relevance", page_size=4, product_ids=ids)

    assert forward == list(ids)
    assert backward == list(ids)
    assert numbers == [1, 2, 3, 4, 5, 4, 3, 2, 1]


def test_list_products_reports_total_and_page_count_when_paginating(shop, many):
    page = _listing(category_id=shop["shoes"].pk, page_size="5")

    assert (page.total, page.page_count, page.page_number) == (24, 5, 1)
    assert page.prev_cursor is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),
        lambda c: "A" + c[1:] if not c.startswith("A") else "B" + c[1:],
        lambda c: c.replace(".", ""),
        lambda c: "!!!",
        lambda c: c * 20,
    ],
)
def test_list_products_falls_back_to_page_one_when_cursor_is_tampered(shop, many, mangle):
    second = _listing(page_size="5", cursor=_listing(page_size="5").next_cursor)
    assert second.page_number == 2

    page = _listing(page_size="5", cursor=mangle(second.next_cursor))

    assert page.page_number == 1
    assert page.items == _listing(page_size="5").items


def test_list_products_falls_back_to_page_one_when_cursor_belongs_to_another_sort(shop, many):
    cursor = _listing(page_size="5", sort="newest").next_cursor

    page = _listing(page_size="5", sort="popular", cursor=cursor)

    assert page.page_number == 1


# --- query counts -----------------------------------------------------------------------


@pytest.fixture
def big_category(shop):
    """61 products with 12 variants and 2 images each."""
    variants = tuple(
        (size, colour, "199.00")
        for size in ("S", "M", "L", "XL")
        for colour in ("black", "red", "navy")
    )
    products = [make_product(category=shop["tees"], variants=variants) for _ in range(61)]
    for product in products[:10]:
        make_image(product, position=1)
        make_image(product, position=0)
    notify_catalog_changed()
    return products


@pytest.mark.parametrize("sort", ["popular", "price_desc"])
def test_list_products_stays_within_ten_queries_when_page_has_60_items(
    shop, big_category, django_assert_max_num_queries, sort
):
    params = {"brand": ["acme", "zen"], "size": "M", "colour": ["red", "black"],
              "price": "100-300", "page_size": "60", "sort": sort}  # fmt: skip
    with django_assert_max_num_queries(10):
        page = _listing(category_id=shop["clothing"].pk, **params)
    # The tees are of other brands: only Zen's red tee matches every filter.
    assert [c.id for c in page.items] == [shop["products"]["tee-red"].pk]

    with django_assert_max_num_queries(10):
        page = _listing(category_id=shop["clothing"].pk, page_size="60", sort=sort)
    assert len(page.items) == 60
    assert page.items[0].colours

    with django_assert_max_num_queries(10):
        page = _listing(category_id=shop["clothing"].pk, page_size="60", cursor=page.next_cursor,
                        sort=sort)  # fmt: skip
    assert len(page.items) == 5  # 61 tees + 4 other clothes


def test_list_products_stays_within_ten_queries_when_ranking_search_results(
    shop, big_category, django_assert_max_num_queries
):
    ids = tuple(p.pk for p in big_category)

    with django_assert_max_num_queries(10):
        page = _listing(product_ids=ids, size="M", page_size="60")

    assert [c.id for c in page.items] == list(ids[:60])


def test_list_products_costs_one_query_when_the_same_page_is_cached(
    shop, big_category, django_assert_num_queries
):
    _listing(category_id=shop["clothing"].pk, page_size="60")

    with django_assert_num_queries(1):
        page = _listing(category_id=shop["clothing"].pk, page_size="60")

    assert len(page.items) == 60


def test_list_products_sees_a_price_change_when_the_catalog_version_moves(shop):
    tee = shop["products"]["tee-black"]
    _listing()

    Product.objects.filter(pk=tee.pk).update(display_price=Decimal("5.00"))
    notify_catalog_changed(product_ids=[tee.pk])

    card = next(c for c in _listing().items if c.id == tee.pk)
    assert card.price == Decimal("5.00")


# --- parsing --------------------------------------------------------------------------


def test_parse_listing_query_drops_junk_when_params_are_hostile():
    query = selectors.parse_listing_query(
        {
            "brand": ["acme"] * 1000 + ["bad slug!", "x" * 500],
            "size": [f"S{i}" for i in range(100)],
            "colour": ["black", "mauve", "red,blue"],
            "price": ["abc", "100-300"],
            "sort": ["evil"],
            "cursor": ["!!!"],
            "page_size": ["100000000000000000000"],
        }
    )

    assert query.brands == frozenset({"acme"})
    assert len(query.sizes) == selectors.MAX_FACET_VALUES
    assert query.colours == frozenset({"black", "red", "blue"})
    assert query.price_bands == frozenset({"100-300"})
    assert (query.sort, query.cursor, query.page_size) == ("popular", None, 60)


@pytest.mark.parametrize(
    ("raw", "expected"), [("0", 1), ("-5", 1), ("abc", 24), ("", 24), ("12", 12), ("1e9", 24)]
)
def test_parse_listing_query_clamps_page_size_when_out_of_range(raw, expected):
    assert selectors.parse_listing_query({"page_size": [raw]}).page_size == expected


def test_parse_listing_query_defaults_to_relevance_when_searching():
    assert selectors.parse_listing_query({}, product_ids=(3, 1, 3)).sort == "relevance"
    assert selectors.parse_listing_query({}, product_ids=(3, 1, 3)).product_ids == (3, 1)
    assert selectors.parse_listing_query({"sort": ["relevance"]}).sort == "popular"


# --- product detail, related and featured --------------------------------------------------


def test_get_product_detail_returns_skus_prices_and_breadcrumbs_when_product_is_active(shop):
    tee = make_product(
        category=shop["tees"], brand=shop["products"]["jeans"].brand,
        variants=(("L", "red", "99.00"), ("S", "red", "89.00"), ("S", "black", "89.00")),
        sale_price="79.00", attributes=[{"name_en": "Material", "value_en": "Cotton"}],
    )  # fmt: skip
    make_image(tee, position=0, colour="red")

    detail = selectors.get_product_detail(tee.slug)

    assert [n.slug for n in detail.category_path] == ["clothing", "tops", "tees"]
    assert [s.size for s in detail.skus] == ["L", "S", "S"]
    assert detail.sizes == ("S", "L")
    assert detail.colours == ("red", "black")
    assert detail.skus[0].price == Decimal("79.00")
    assert detail.skus[0].list_price == Decimal("99.00")
    assert (detail.price, detail.list_price, detail.currency) == (
        Decimal("79.00"),
        Decimal("99.00"),  # the list price of the first of the cheapest offers
        "CNY",
    )
    assert detail.images[0].width == 4
    assert detail.attributes[0]["value_en"] == "Cotton"
    assert detail.brand_slug == "acme"


def test_get_product_detail_stays_within_five_queries_when_product_has_many_variants(
    shop, django_assert_max_num_queries
):
    variants = tuple((str(size), "black", "299.00") for size in range(34, 47))
    product = make_product(category=shop["shoes"], variants=variants)
    for position in range(5):
        make_image(product, position=position)
    notify_catalog_changed()

    with django_assert_max_num_queries(5):
        detail = selectors.get_product_detail(product.slug)
    with django_assert_max_num_queries(1):
        again = selectors.get_product_detail(product.slug)

    assert len(detail.skus) == 13
    assert len(detail.images) == 5
    assert again == detail


def test_get_product_detail_skips_inactive_skus_when_listing_variants(shop):
    jeans = shop["products"]["jeans"]
    Sku.objects.filter(product=jeans, size="XL").update(is_active=False)
    notify_catalog_changed()

    assert [s.size for s in selectors.get_product_detail(jeans.slug).skus] == ["L"]


def test_get_product_detail_returns_none_when_slug_unknown_or_product_hidden(shop):
    boot = shop["products"]["boot"]
    Product.objects.filter(pk=boot.pk).update(is_active=False)
    Category.objects.filter(pk=shop["bottoms"].pk).update(is_active=False)
    notify_catalog_changed()

    assert selectors.get_product_detail("no-such-thing") is None
    assert selectors.get_product_detail("x" * 5000) is None
    assert selectors.get_product_detail(boot.slug) is None
    assert selectors.get_product_detail(shop["products"]["jeans"].slug) is None


def test_list_related_products_lists_same_category_popular_first_without_itself(shop):
    p = shop["products"]

    related = selectors.list_related_products(product_id=p["tee-black"].pk)

    assert [c.id for c in related] == [p["tee-red"].pk]


def test_list_featured_products_takes_popular_products_of_featured_categories(shop):
    p = shop["products"]

    featured = selectors.list_featured_products(limit=2)

    assert [c.id for c in featured] == [p["tee-black"].pk, p["tee-red"].pk]


def test_selectors_read_the_catalog_version_once_when_inside_one_request(
    shop, django_assert_num_queries
):
    # What request_started/request_finished trigger (sending those signals here would
    # also close the test's database connection).
    from omnimall.catalog.tree import _end_request, _start_request

    selectors.get_category_tree()
    _listing(category_id=shop["tees"].pk)

    _start_request()
    try:
        with django_assert_num_queries(1):
            selectors.get_category_tree()
            selectors.get_category("clothing/tops/tees")
            _listing(category_id=shop["tees"].pk)
    finally:
        _end_request()

    with django_assert_num_queries(1):  # outside a request: read afresh each call
        selectors.get_category_tree()


@pytest.mark.parametrize("sort", ["popular", "price_desc", "newest"])
def test_list_products_reads_deep_pages_without_offset_when_following_cursors(shop, many, sort):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    page = _listing(sort=sort, page_size="3")
    for _ in range(4):
        page = _listing(sort=sort, page_size="3", cursor=page.next_cursor)
    with CaptureQueriesContext(connection) as ctx:
        deep = _listing(sort=sort, page_size="3", cursor=page.next_cursor)

    assert deep.page_number == 6
    assert ctx.captured_queries
    assert not any("OFFSET" in q["sql"].upper() for q in ctx.captured_queries)


def test_selectors_use_the_cache_namespace_that_catalog_services_bump():
    from omnimall.catalog import services, tree

    assert tree.CATALOG_CACHE_NAMESPACE == services.CATALOG_CACHE_NAMESPACE


def test_get_product_detail_gives_image_alt_in_the_active_language_when_cached(shop):
    from django.utils import translation

    boot = shop["products"]["boot"]
    image = make_image(boot)
    ProductImage.objects.filter(pk=image.pk).update(alt_en="Brown boot", alt_zh="棕色靴子")
    notify_catalog_changed()

    with translation.override("en"):
        english = selectors.get_product_detail(boot.slug)
    with translation.override("zh-hans"):
        chinese = selectors.get_product_detail(boot.slug)

    assert english.images[0].alt == "Brown boot"
    assert chinese.images[0].alt == "棕色靴子"


def test_list_products_reuses_facets_another_worker_stored_when_its_memory_cache_is_cold(shop):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = _listing(category_id=shop["clothing"].pk, size="M")
    cache.clear()  # what a second worker process sees: its own empty memory cache

    with CaptureQueriesContext(connection) as ctx:
        again = _listing(category_id=shop["clothing"].pk, size="M")

    assert again == first
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)


def test_list_products_recounts_and_drops_stale_stored_facets_when_the_catalog_changes(
    shop, monkeypatch
):
    from omnimall.catalog import facets
    from omnimall.catalog.models import ListingFacetCache

    monkeypatch.setattr(facets, "_CLEAN_ONE_IN", 1)
    _listing(category_id=shop["tees"].pk)
    stale_version = ListingFacetCache.objects.get().version
    make_product(category=shop["tees"], brand=BrandFactory(slug="acme"))

    page = _listing(category_id=shop["tees"].pk)

    assert page.total == 3
    assert {v.value: v.count for v in page.facets[0].values}["acme"] == 2
    assert not ListingFacetCache.objects.filter(version=stale_version).exists()


def test_list_products_drops_stored_facets_older_than_a_day_when_storing_new_ones(
    shop, monkeypatch
):
    from datetime import timedelta

    from omnimall.catalog import facets
    from omnimall.catalog.models import ListingFacetCache
    from omnimall.core import clock

    old = ListingFacetCache.objects.create(key="old", version=10**12, payload={})
    ListingFacetCache.objects.filter(pk=old.pk).update(created_at=clock.now() - timedelta(days=2))
    monkeypatch.setattr(facets, "_CLEAN_ONE_IN", 1)

    _listing(category_id=shop["shoes"].pk)

    assert not ListingFacetCache.objects.filter(key="old").exists()
    assert ListingFacetCache.objects.count() == 1


def test_list_products_returns_an_empty_page_when_search_found_nothing(shop):
    page = _listing(product_ids=(), size="M")

    assert (page.items, page.total, page.sort, page.next_cursor) == ((), 0, "relevance", None)
    assert [f.code for f in page.facets] == ["brand", "size", "colour", "price"]
    assert page.facets[1].values[0].selected


def test_list_products_falls_back_to_page_one_when_rows_past_the_cursor_are_gone(shop, many):
    last = _listing(page_size="27")
    (straggler,) = _listing(page_size="27", cursor=last.next_cursor).items  # 28 products
    Product.objects.filter(pk=straggler.id).update(is_active=False)
    notify_catalog_changed()

    page = _listing(page_size="27", cursor=last.next_cursor)

    assert page.page_number == 1
    assert len(page.items) == 27


def test_list_products_keeps_search_facets_out_of_the_shared_store(shop):
    from omnimall.catalog.models import ListingFacetCache

    _listing(product_ids=tuple(p.pk for p in shop["products"].values()))

    assert not ListingFacetCache.objects.exists()
