import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.utils import OperationalError
from django.utils import timezone


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


@pytest.mark.django_db
def test_unknown_api_path_answers_json_404_when_requested(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_wrong_method_on_api_answers_json_405_when_posted(client):
    response = client.post("/api/v1/categories")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


@pytest.mark.django_db
def test_unknown_shop_path_keeps_html_404_when_not_under_api(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_api_answers_json_400_when_query_string_has_too_many_fields(client):
    query = "&".join(f"brand=b{i}" for i in range(1500))

    response = client.get(f"/api/v1/products?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.django_db
def test_healthz_full_adds_the_cache_and_the_outboxs_backlog(client):
    from omnimall.core import outbox
    from omnimall.core.models import OutboxMessage

    body = client.get("/healthz?full=1").json()
    assert body["status"] == "ok"
    assert body["cache"] == "local"  # the tests' in-memory cache: no Redis configured
    assert body["outbox"] == {"pending": 0, "dead": 0, "oldest_due_seconds": 0}
    assert "outbox" not in client.get("/healthz").json()  # the balancer's probe stays cheap

    outbox.send_email(to="a@example.com", subject="s", body="b", topic="t", dedupe_key="k")
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        late = client.get("/healthz?full=1")

    assert late.status_code == 200  # still selling
    assert late.json()["status"] == "degraded"
    assert late.json()["outbox"]["pending"] == 1
    assert late.json()["outbox"]["oldest_due_seconds"] >= 6 * 60

    # Retried for hours, due again a minute ago: it has waited a minute, not hours.
    OutboxMessage.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        retried = client.get("/healthz?full=1").json()
    assert retried["status"] == "ok"
    assert 50 <= retried["outbox"]["oldest_due_seconds"] <= 70
