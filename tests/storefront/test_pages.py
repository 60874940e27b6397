"""Home, category and product pages as a shopper's browser receives them."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from omnimall.catalog.models import Brand, Product
from omnimall.core.cache_versions import bump_version
from tests.catalog.factories import make_image, make_product

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _html(response) -> str:
    return response.content.decode()


def test_home_shows_navigation_featured_category_and_products_when_catalog_exists(client, shop):
    response = client.get("/", **EN)

    html = _html(response)
    assert response.status_code == 200
    assert 'class="main-nav"' in html
    assert 'href="/c/women/tops/t-shirts/"' in html  # third level in the fly-out
    assert "category-tile" in html
    assert 'href="/c/women/"' in html
    assert "Cotton Tee" in html
    assert '<link rel="canonical" href="http://testserver/">' in html


def test_home_is_chinese_when_browser_has_no_preference(client, shop):
    response = client.get("/")

    html = _html(response)
    assert '<html lang="zh-hans">' in html
    assert "女装" in html
    assert "纯棉T恤" in html
    assert "精选商品" in html  # "Featured products", translated


def test_category_lists_products_of_subtree_with_breadcrumbs_and_bar_when_known(client, shop):
    response = client.get("/c/women/", **EN)

    html = _html(response)
    assert response.status_code == 200
    assert "<title>Women | omnimall</title>" in html
    assert "Cotton Tee" in html
    assert "Linen Shirt" in html
    assert "Court Sneakers" not in html
    assert 'class="category-bar"' in html
    assert 'href="/c/women/tops/"' in html
    assert re.search(r'<li aria-current="page">\s*Women\s*</li>', html)


def test_category_shows_struck_list_price_when_product_is_discounted(client, shop):
    response = client.get("/c/women/tops/", **EN)

    html = _html(response)
    assert '<span class="price-now price-sale">¥299</span>' in html
    # The strike-through is only seen: a screen reader is told which price it is.
    assert (
        '<span class="visually-hidden">Original price:</span> <s class="price-was">¥399</s>' in html
    )


def test_product_card_names_its_colour_dots_in_words_for_screen_readers(client, shop):
    response = client.get("/c/women/tops/t-shirts/", **EN)

    html = _html(response)
    assert '<span class="visually-hidden">Colour: Black, White</span>' in html


def test_category_facets_show_counts_and_filter_links_when_rendered(client, shop):
    response = client.get("/c/women/", **EN)

    html = _html(response)
    brand_link = re.search(r'<a class="facet-value" href="([^"]+)"[^>]*data-value="lumen"', html)
    assert brand_link is not None
    assert brand_link.group(1) == "?brand=lumen"
    colour = re.search(r'data-value="navy">.*?<span class="count">(\d+)</span>', html, re.S)
    assert colour is not None
    assert colour.group(1) == "1"


def test_category_filter_by_brand_keeps_only_that_brand_when_facet_selected(client, shop):
    response = client.get("/c/women/?brand=lumen", **EN)

    html = _html(response)
    assert "Linen Shirt" in html
    assert "Cotton Tee" not in html
    assert 'class="facet-value is-selected"' in html
    assert "1 product<" in html


def test_category_sort_by_price_ascending_orders_cards_when_requested(client, shop):
    response = client.get("/c/women/?sort=price_asc", **EN)

    html = _html(response)
    assert html.index("Cotton Tee") < html.index("Linen Shirt")
    assert '<option value="price_asc" selected>' in html


def test_category_paginates_with_cursor_links_when_more_than_a_page(client, shop):
    for n in range(5):
        make_product(category=shop.sneakers, slug=f"runner-{n}", name_en=f"Runner {n}")

    first = client.get("/c/shoes/?page_size=4&sort=newest", **EN)
    html = _html(first)
    next_href = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert next_href is not None
    assert "Page 1 of 2" in html
    second = client.get("/c/shoes/" + next_href.group(1).replace("&amp;", "&"), **EN)

    html2 = _html(second)
    assert second.status_code == 200
    assert "Page 2 of 2" in html2
    assert '<a rel="prev"' in html2
    assert 'rel="next"' not in html2
    first_names = set(re.findall(r'class="card-name">([^<]+)<', html))
    second_names = set(re.findall(r'class="card-name">([^<]+)<', html2))
    assert len(first_names) == 4
    assert len(second_names) == 2
    assert not first_names & second_names


def test_category_canonical_keeps_sorted_facets_and_drops_cursor_and_sort_when_present(
    client, shop
):
    response = client.get("/c/women/?sort=newest&colour=navy&brand=lumen&cursor=abc&utm=x", **EN)

    assert (
        '<link rel="canonical" href="http://testserver/c/women/?brand=lumen&amp;colour=navy">'
        in _html(response)
    )


def test_category_leaf_shows_sibling_bar_when_it_has_no_children(client, shop):
    response = client.get("/c/women/tops/t-shirts/", **EN)

    html = _html(response)
    assert response.status_code == 200
    assert 'aria-current="page" class="is-current"' in html


def test_unknown_category_is_shop_styled_404_when_path_does_not_exist(client, shop):
    response = client.get("/c/women/no-such-thing/", **EN)

    assert response.status_code == 404
    html = _html(response)
    assert "We could not find that page" in html
    assert 'class="main-nav"' in html


def test_product_page_shows_variants_breadcrumbs_attributes_and_related_when_known(client, shop):
    make_product(category=shop.sneakers, slug="trail-sneakers", name_en="Trail Sneakers")

    response = client.get("/p/court-sneakers/", **EN)

    html = _html(response)
    assert response.status_code == 200
    assert "<title>Court Sneakers · Northwind | omnimall</title>" in html
    assert 'href="/c/shoes/sneakers/"' in html
    assert html.count('class="variant size-option') == 3
    assert html.count('class="variant colour-option') == 2
    assert '<th scope="row">Upper</th><td>Leather</td>' in html
    assert "Trail Sneakers" in html  # related
    assert 'data-role="sku">COURT-SNEAKERS-40-WHITE<' in html
    assert '<span class="price-now" data-role="price">¥599</span>' in html


def test_product_page_selects_sku_and_its_price_when_sku_param_given(client, shop):
    response = client.get("/p/court-sneakers/?sku=COURT-SNEAKERS-42-BLACK", **EN)

    html = _html(response)
    assert 'data-role="sku">COURT-SNEAKERS-42-BLACK<' in html
    assert '<span class="price-now" data-role="price">¥649</span>' in html
    selected = re.search(r'class="variant size-option is-selected"[^>]*data-size="(\w+)"', html)
    assert selected is not None
    assert selected.group(1) == "42"


def test_product_page_size_link_keeps_colour_when_that_variant_exists(client, shop):
    response = client.get("/p/cotton-tee/?sku=COTTON-TEE-M-WHITE", **EN)

    html = _html(response)
    # From M/white, "S" only exists in black, so it switches colour; "M/black" keeps size.
    assert re.search(r'href="\?sku=COTTON-TEE-S-BLACK"[^>]*data-size="S"', html)
    assert re.search(r'href="\?sku=COTTON-TEE-M-BLACK"[^>]*data-colour="black"', html)


def test_product_page_ignores_unknown_sku_param_when_not_a_variant(client, shop):
    response = client.get("/p/cotton-tee/?sku=%3Cscript%3Ealert(1)%3C/script%3E", **EN)

    assert response.status_code == 200
    assert 'data-role="sku">COTTON-TEE-S-BLACK<' in _html(response)
    assert "<script>alert(1)" not in _html(response)


def test_product_page_embeds_schema_org_product_when_rendered(client, shop):
    make_image(shop.sneaker, name="court.png")

    response = client.get("/p/court-sneakers/", **EN)

    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', _html(response), re.S)
    assert match is not None
    data = json.loads(match.group(1))
    assert data["@type"] == "Product"
    assert data["name"] == "Court Sneakers"
    assert data["brand"]["name"] == "Northwind"
    assert data["image"][0].startswith("http://testserver/media/")
    offer = data["offers"][2]
    assert offer["sku"] == "COURT-SNEAKERS-42-BLACK"
    assert offer["price"] == "649.00"
    assert offer["priceCurrency"] == "CNY"
    assert offer["availability"] == "https://schema.org/InStock"


@pytest.mark.parametrize(("lang", "name"), [("en", "Court Sneakers"), ("zh-CN", "经典运动鞋")])
def test_product_gallery_images_and_thumbnail_links_are_named_in_the_pages_language(
    client, shop, lang, name
):
    make_image(shop.sneaker, name="one.png", position=0)
    make_image(shop.sneaker, name="two.png", position=1)

    html = _html(client.get("/p/court-sneakers/", HTTP_ACCEPT_LANGUAGE=lang))

    gallery = html[html.index('class="gallery"') : html.index('class="buy-box"')]
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', gallery)
    assert alts == [name] * 4  # two slides, and two thumbnails inside their links


def test_product_page_json_ld_escapes_markup_when_name_contains_script(client, shop):
    make_product(category=shop.tops, slug="evil", name_en="</script><script>alert(1)</script>")

    response = client.get("/p/evil/", **EN)

    html = _html(response)
    assert "</script><script>alert(1)" not in html
    assert "\\u003C/script\\u003E" in html


def test_unknown_product_is_404_when_slug_does_not_exist(client, shop):
    response = client.get("/p/nope/", **EN)

    assert response.status_code == 404
    assert "We could not find that page" in _html(response)


def test_language_switch_renders_english_then_chinese_when_posted(shop):
    client = Client()

    to_en = client.post("/i18n/setlang/", {"language": "en", "next": "/c/women/"})
    english = client.get("/c/women/")
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/c/women/"})
    chinese = client.get("/c/women/")

    assert to_en.status_code == 302
    assert to_en["Location"] == "/c/women/"
    assert '<h1 class="page-title">Women</h1>' in _html(english)
    assert '<h1 class="page-title">女装</h1>' in _html(chinese)
    assert "排序" in _html(chinese)  # "Sort by"


def test_robots_txt_disallows_admin_and_api_and_points_to_sitemap_when_fetched(client):
    response = client.get("/robots.txt")

    text = response.content.decode()
    assert response["Content-Type"].startswith("text/plain")
    assert "Disallow: /admin/" in text
    assert "Disallow: /api/" in text
    assert "Sitemap: http://testserver/sitemap.xml" in text


def test_sitemap_lists_home_categories_and_products_when_catalog_exists(client, shop):
    index = client.get("/sitemap.xml")
    sections = re.findall(r"<loc>http://testserver(/sitemap-[a-z]+\.xml[^<]*)</loc>", _html(index))
    bodies = "".join(_html(client.get(s.replace("&amp;", "&"))) for s in sections)

    assert index.status_code == 200
    assert len(sections) == 3
    assert "<loc>http://testserver/</loc>" in bodies
    assert "<loc>http://testserver/c/women/tops/t-shirts/</loc>" in bodies
    assert "<loc>http://testserver/p/court-sneakers/</loc>" in bodies


def test_sitemap_lists_new_product_at_once_when_catalog_changes(client, shop):
    assert "/p/fresh-arrival/" not in _html(client.get("/sitemap-products.xml"))

    make_product(category=shop.tshirts, slug="fresh-arrival")

    assert "/p/fresh-arrival/" in _html(client.get("/sitemap-products.xml"))


def test_sitemap_leaves_out_products_of_inactive_brands_when_brand_switched_off(client, shop):
    product = Product.objects.get(slug="court-sneakers")
    Brand.objects.filter(pk=product.brand_id).update(is_active=False)
    bump_version("catalog")

    bodies = _html(client.get("/sitemap-products.xml"))

    assert "/p/court-sneakers/" not in bodies
    assert client.get("/p/court-sneakers/").status_code == 404


def test_server_error_page_renders_without_database_when_something_breaks(rf):
    from django.utils import translation
    from django.views.defaults import server_error

    with translation.override("en"):
        response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_pages_show_new_price_at_once_when_price_changes_after_being_cached(client, shop):
    from decimal import Decimal

    from omnimall.catalog import services
    from tests.catalog.factories import TEST_ACTOR, storefront_price_list

    client.get("/c/women/tops/", **EN)
    client.get("/p/linen-shirt/", **EN)
    sku = shop.shirt.skus.get()

    services.set_price(
        sku=sku,
        price_list=storefront_price_list(),
        list_price=Decimal("399.00"),
        sale_price=Decimal("249.00"),
        actor=TEST_ACTOR,
    )
    listing = client.get("/c/women/tops/", **EN).content.decode()
    product = client.get("/p/linen-shirt/", **EN).content.decode()

    assert '<span class="price-now price-sale">¥249</span>' in listing
    assert '<span class="price-now price-sale" data-role="price">¥249</span>' in product
    assert "¥299" not in listing


def test_navigation_shows_new_category_at_once_when_added_after_being_cached(client, shop):
    from tests.catalog.factories import make_category

    client.get("/", **EN)

    make_category("bags", name_en="Bags", name_zh="包袋")
    html = client.get("/", **EN).content.decode()

    assert 'class="nav-link" href="/c/bags/">Bags</a>' in html
