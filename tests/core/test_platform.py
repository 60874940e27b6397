import re

import pytest
from django.db import connection
from django.db.utils import OperationalError


@pytest.mark.django_db
def test_healthz_answers_200_with_json_when_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["database"] == "up"


@pytest.mark.django_db
def test_healthz_answers_503_when_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("database is down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


@pytest.mark.django_db
def test_server_timing_header_counts_queries(client):
    response = client.get("/healthz")

    header = response["Server-Timing"]
    assert re.search(r'db;desc="queries=1";dur=\d+\.\d', header), header
    assert re.search(r"app;dur=\d+\.\d", header)


@pytest.mark.django_db
def test_api_responses_carry_server_timing_too(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert "Server-Timing" in response


def test_server_timing_can_be_switched_off(rf, settings):
    from omnimall.core.middleware import ServerTimingMiddleware

    settings.SERVER_TIMING = False
    from django.http import HttpResponse

    middleware = ServerTimingMiddleware(lambda request: HttpResponse("ok"))

    response = middleware(rf.get("/"))

    assert "Server-Timing" not in response
