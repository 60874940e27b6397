from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from omnimall.core import health


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers a query, 503 when it does not. ``?full=1`` adds the
    cache's and the outbox's state for monitoring (``core.health``)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "unavailable", "database": "down", "error": type(exc).__name__}, status=503
        )
    body = {"status": "ok", "database": "up", "vendor": connection.vendor}
    if request.GET.get("full"):
        body |= health.details()
    return JsonResponse(body)


def hello(request: HttpRequest) -> JsonResponse:
    """A bare JSON view with no database work: the framework's ceiling in the benchmarks
    (benchmarks/storefront.py compares every page's throughput with it)."""
    return JsonResponse({"hello": "world"})
