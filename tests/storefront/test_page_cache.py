from decimal import Decimal

import pytest

from omnimall.catalog.models import Price
from omnimall.catalog.services import set_price
from tests.catalog.factories import TEST_ACTOR, make_category, make_product, storefront_price_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee():
    tops = make_category("tops", name_en="Tops", name_zh="上衣")
    return make_product(
        category=tops,
        slug="tee",
        name_en="Plain Tee",
        name_zh="纯色T恤",
        variants=(("M", "black", "199.00"),),
    )


def test_product_page_served_from_cache_with_one_query_when_seen_before(
    client, tee, django_assert_num_queries
):
    first = client.get("/p/tee/")

    with django_assert_num_queries(1):  # the catalog version; the page itself is cached
        second = client.get("/p/tee/")

    assert first.status_code == second.status_code == 200
    assert second.content == first.content


def test_product_page_shows_new_price_at_once_when_price_changes(client, tee):
    assert "199" in client.get("/p/tee/").content.decode()
    sku = tee.skus.get()

    set_price(
        sku=sku,
        price_list=storefront_price_list(),
        list_price=Decimal("149.00"),
        sale_price=None,
        actor=TEST_ACTOR,
        reason="winter sale",
    )

    body = client.get("/p/tee/").content.decode()
    assert "149" in body
    assert Price.objects.get(sku=sku).list_price == Decimal("149.00")


def test_pages_cached_per_language_when_language_differs(client, tee):
    english = client.get("/p/tee/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/p/tee/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "Plain Tee" in english
    assert "纯色T恤" in chinese


def test_cached_pages_carry_no_csrf_token_when_rendered(client, tee):
    body = client.get("/p/tee/").content.decode()

    assert "csrfmiddlewaretoken" not in body


def test_language_switch_works_without_csrf_token_when_posted(tee):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    response = strict.post("/i18n/setlang/", {"language": "en", "next": "/p/tee/"})

    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
