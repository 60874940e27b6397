"""``Server-Timing`` on every response: SQL query count and time, total app time, and the
CPU time the request's thread spent (``cpu``: Python work, without waiting for the database).

Switch off with ``OMNIMALL_SERVER_TIMING=0``. Counting wraps the database cursor with
``connection.execute_wrapper``, which works with ``DEBUG`` off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse


class _QueryTimer:
    __slots__ = ("count", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


class ServerTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.enabled = settings.SERVER_TIMING

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.enabled:
            return self.get_response(request)
        timer = _QueryTimer()
        start = time.perf_counter()
        cpu_start = time.thread_time()
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(timer))
            response = self.get_response(request)
        total_ms = (time.perf_counter() - start) * 1000
        cpu_ms = (time.thread_time() - cpu_start) * 1000
        db_ms = timer.seconds * 1000
        response["Server-Timing"] = (
            f'db;desc="queries={timer.count}";dur={db_ms:.1f}, app;dur={total_ms:.1f}, '
            f"cpu;dur={cpu_ms:.1f}"
        )
        return response


class ApiJsonErrorsMiddleware:
    """Under ``/api/``, a 404 for an unknown path, a 405 for a wrong method and a 400
    for a malformed request (Django refuses, e.g., over 1,000 query parameters) are JSON too.

    Ninja's handlers already answer JSON for errors raised inside an operation; these two
    are produced before any operation runs (by URL resolution and Ninja's method dispatch).
    """

    _MESSAGES = {
        400: ("bad_request", "The request is malformed (for example, too many parameters)."),
        404: ("not_found", "No such API endpoint."),
        405: ("method_not_allowed", "This endpoint does not accept that method."),
    }

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        known = self._MESSAGES.get(response.status_code)
        if (
            known is None
            or not request.path.startswith("/api/")
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        code, message = known
        body = {"error": {"code": code, "message": message, "details": {}}}
        json_response = JsonResponse(body, status=response.status_code)
        if response.has_header("Allow"):
            json_response["Allow"] = response["Allow"]
        return json_response
