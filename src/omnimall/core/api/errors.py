"""One mapping from errors to JSON bodies: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from omnimall.core.api.parser import body_problem
from omnimall.core.errors import DomainError


class ErrorBodyOut(Schema):
    code: str
    message: str
    details: dict[str, Any]


class ErrorOut(Schema):  # every error: {"error": {"code", "message", "details"}}
    error: ErrorBodyOut


# The error responses an integration endpoint documents (``response={200: …, **ERRORS}``).
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def install_error_handlers(api: NinjaAPI) -> None:
    # Handlers take ``exc: Any``: Ninja's stub types the argument as "instance or class".
    def on_domain_error(request: HttpRequest, exc: Any) -> HttpResponse:
        response = api.create_response(
            request, error_body(exc.code, exc.message, exc.details), status=exc.status
        )
        challenge = getattr(exc, "challenge", "")  # a 401's WWW-Authenticate (RFC 9110)
        if challenge:
            response["WWW-Authenticate"] = challenge
        retry_after = getattr(exc, "retry_after", None)  # a 429's (RFC 9110)
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response

    def on_validation_error(request: HttpRequest, exc: Any) -> HttpResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", [])], "msg": str(e.get("msg", ""))}
            for e in exc.errors
        ]
        return api.create_response(
            request,
            error_body("validation_failed", "The request is not valid.", {"errors": errors}),
            status=422,
        )

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return api.create_response(
            request, error_body("not_found", str(exc) or "Not found."), status=404
        )

    def on_auth_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return api.create_response(
            request,
            error_body("unauthorized", "A valid API key is required (header X-Api-Key)."),
            status=401,
        )

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        if exc.status_code == 400:  # Ninja's for a body it cannot parse, from the parser's error
            message = body_problem(exc.__cause__) or str(exc.message)
            return api.create_response(request, error_body("bad_request", message), status=400)
        return api.create_response(
            request, error_body("http_error", str(exc.message)), status=exc.status_code
        )

    api.add_exception_handler(DomainError, on_domain_error)
    api.add_exception_handler(NinjaValidationError, on_validation_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(AuthenticationError, on_auth_error)
    api.add_exception_handler(HttpError, on_http_error)
