"""A web app on another origin calls the Store API (OMNIMALL_CORS_ORIGINS)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

APP = "https://m.example.com"


def _with_cors():
    middleware = list(settings.MIDDLEWARE)
    middleware.insert(
        middleware.index("django.middleware.common.CommonMiddleware"),
        "corsheaders.middleware.CorsMiddleware",
    )
    return override_settings(MIDDLEWARE=middleware, CORS_ALLOWED_ORIGINS=[APP])


def test_an_allowed_origin_may_send_a_bearer_token_and_read_the_answer():
    with _with_cors():
        preflight = Client().options(
            "/api/v1/account",
            HTTP_ORIGIN=APP,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, idempotency-key",
        )
        answer = Client().get("/api/v1/account", HTTP_ORIGIN=APP)

    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == APP
    allowed = preflight["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed
    assert "idempotency-key" in allowed
    assert "Access-Control-Allow-Credentials" not in preflight  # tokens, never cookies
    assert answer.status_code == 401  # the API's own answer, readable by the app
    assert answer["Access-Control-Allow-Origin"] == APP
    assert "WWW-Authenticate" in answer["Access-Control-Expose-Headers"]


def test_another_origin_and_the_shops_pages_get_no_cors_headers():
    with _with_cors():
        stranger = Client().get("/api/v1/categories", HTTP_ORIGIN="https://evil.example")
        page = Client().get("/", HTTP_ORIGIN=APP)

    assert stranger.status_code == 200
    assert "Access-Control-Allow-Origin" not in stranger
    assert "Access-Control-Allow-Origin" not in page


def test_without_origins_configured_the_middleware_is_not_installed():
    assert settings.CORS_ALLOWED_ORIGINS == []
    assert "corsheaders.middleware.CorsMiddleware" not in settings.MIDDLEWARE
