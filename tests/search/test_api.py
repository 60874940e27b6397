from __future__ import annotations

import pytest

from omnimall.search.models import ZeroResultQuery


def test_search_api_returns_listing_shape_when_query_matches(client, shop):
    response = client.get("/api/v1/search", {"q": "sneakr"})

    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "sneakr"
    assert body["corrected_query"] == "sneakers"
    assert [item["slug"] for item in body["items"]] == ["trail-runner"]
    assert body["items"][0]["url"] == "/p/trail-runner/"
    assert {f["code"] for f in body["facets"]} >= {"brand", "colour"}
    assert (body["total"], body["page_number"], body["page_count"]) == (1, 1, 1)
    assert body["sort"] == "relevance"
    assert body["next_cursor"] is None


def test_search_api_filters_and_pages_when_params_given(client, shop):
    first = client.get("/api/v1/search", {"q": "tops", "page_size": "1"}).json()
    second = client.get(
        "/api/v1/search", {"q": "tops", "page_size": "1", "cursor": first["next_cursor"]}
    ).json()
    red = client.get("/api/v1/search", {"q": "tops", "colour": "red"}).json()

    assert first["total"] == 2
    assert {first["items"][0]["slug"], second["items"][0]["slug"]} == {"cotton-tee", "silk-dress"}
    assert [item["slug"] for item in red["items"]] == ["silk-dress"]


def test_search_api_records_zero_result_query_when_nothing_found(client, shop):
    client.get("/api/v1/search", {"q": "Unicorn Boots"})
    body = client.get("/api/v1/search", {"q": "unicorn  boots"}).json()

    assert body["total"] == 0
    assert body["suggestions"]
    assert ZeroResultQuery.objects.get(query="unicorn boots").count == 2


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "*",
        "OR",
        "NEAR(",
        "sneakers OR boots",
        "title:sneakers",
        ":",
        "&|!",
        "'; DROP TABLE search_searchdocument; --",
        "(((",
        "\\",
        "^-+",
        "\x00",
        "😀🔥",
        "Ｓｎｅａｋｅｒｓ",
        "ﷺ" * 50,
        "x" * 5000,
        "运动鞋" * 300,
    ],
)
def test_search_api_answers_json_when_query_is_junk(client, shop, query):
    response = client.get("/api/v1/search", {"q": query, "page_size": "abc", "sort": "zzz"})
    suggest = client.get("/api/v1/search/suggest", {"q": query})

    assert response.status_code == 200
    assert len(response.json()["query"]) <= 100
    assert suggest.status_code == 200
    assert isinstance(suggest.json()["suggestions"], list)


@pytest.mark.parametrize("raw", ["%ED%A0%80", "%FF%FE", "%00%00", "%E2%80%AE%F0%9F"])
def test_search_api_answers_json_when_query_string_is_not_utf8(client, shop, raw):
    response = client.get(f"/api/v1/search?q={raw}&brand={raw}")
    suggest = client.get(f"/api/v1/search/suggest?q={raw}")

    assert response.status_code == 200
    assert suggest.status_code == 200


def test_search_api_rejects_nothing_when_query_is_missing(client, shop):
    body = client.get("/api/v1/search").json()

    assert (body["query"], body["total"], body["items"]) == ("", 0, [])
    assert not ZeroResultQuery.objects.exists()


def test_suggest_api_returns_prefix_matches_when_typing(client, shop):
    body = client.get("/api/v1/search/suggest", {"q": "Trail r"}).json()

    assert body == {
        "suggestions": [
            {"text": "Trail Running Sneakers", "kind": "product", "url": "/p/trail-runner/"}
        ]
    }


def test_zero_result_admin_lists_queries_when_staff_opens_it(admin_client, shop):
    ZeroResultQuery.objects.create(
        query="unicorn boots",
        count=7,
        first_seen="2026-01-01T00:00Z",
        last_seen="2026-01-02T00:00Z",
    )

    response = admin_client.get("/admin/search/zeroresultquery/", {"q": "unicorn"})

    assert response.status_code == 200
    assert b"unicorn boots" in response.content


def test_search_api_has_the_product_listing_shape_when_both_list_products(client, shop):
    products = client.get("/api/v1/products").json()
    found = client.get("/api/v1/search", {"q": "tops"}).json()

    assert set(found) == set(products) | {"query", "corrected_query", "suggestions"}
    assert set(found["items"][0]) == set(products["items"][0])
    assert set(found["facets"][0]) == set(products["facets"][0])
    assert found["items"][0]["price"] in {"99.00", "899.00"}
