"""``ApiKeyAuth``: 401 for no usable key, 403 naming the scopes a route takes, always a list."""

from __future__ import annotations

import uuid

import pytest

from omnimall.core import api_keys
from omnimall.core.actors import Actor

pytestmark = pytest.mark.django_db


def key(*scopes):
    return api_keys.create_api_key(
        name=f"key-{uuid.uuid4().hex[:6]}", scopes=list(scopes), actor=Actor.system("tests")
    ).token


@pytest.mark.parametrize(
    ("path", "scopes"),
    [
        ("/api/v1/pos/members?card=1", ["pos"]),  # one scope
        ("/api/v1/inventory/fulfilment-requests", ["wms", "store"]),  # either of two
    ],
)
def test_api_key_without_the_scope_gets_403_listing_the_scopes_when_one_or_several(
    client, path, scopes
):
    response = client.get(path, HTTP_X_API_KEY=key("catalog:read"))

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "forbidden",
        "message": "This API key lacks the scope for this call.",
        "details": {"required_scopes": scopes},
    }


def test_api_key_without_the_scope_gets_a_list_on_a_single_scope_post(client):
    response = client.post(
        "/api/v1/pos/sales",
        {},
        content_type="application/json",
        HTTP_X_API_KEY=key("wms"),
    )

    assert response.status_code == 403
    assert response.json()["error"]["details"] == {"required_scopes": ["pos"]}


@pytest.mark.parametrize("token", ["ab\x00cd.secret", "ab cd.secret", "ab-cd.secret", ".secret"])
def test_a_key_that_cannot_be_ours_is_401_without_a_lookup(client, token):
    refused = client.get("/api/v1/pos/members?card=1", HTTP_X_API_KEY=token)

    assert refused.status_code == 401  # a NUL used to reach PostgreSQL, which refused it: 500
    assert refused.json()["error"]["code"] == "unauthorized"
