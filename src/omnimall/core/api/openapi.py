"""The OpenAPI document says what the API does, where Ninja's generated one would not.

- **An optional body** (``payload: CartIn | None = None``) is generated as a required-false
  body whose schema is ``anyOf: [CartIn, null]``: it promises that a JSON ``null`` body is
  accepted. ``core.api.parser`` refuses it (400 ``bad_request``: every body is a JSON
  object), so the document says what is true: the body may be left out, and when it is
  sent it is the object.
- **A header the handler reads itself** (``Idempotency-Key``: its absence and its form
  have their own error codes, so Ninja must not refuse it first with a generic 422) is
  documented with ``openapi_extra=idempotency_key_header(...)`` on the route.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from omnimall.core.idempotency import MAX_KEY_LENGTH

_NULL = {"type": "null"}


def _body_is_an_object(operation: dict[str, Any]) -> None:
    body = operation.get("requestBody")
    if not body or body.get("required", True):
        return
    for media in body.get("content", {}).values():
        schema = media.get("schema", {})
        options = schema.get("anyOf")
        if options and _NULL in options:
            rest = [option for option in options if option != _NULL]
            media["schema"] = rest[0] if len(rest) == 1 else {**schema, "anyOf": rest}


class DocumentedNinjaAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                _body_is_an_object(operation)
        return schema


def idempotency_key_header(*, required: bool, description: str) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads ``Idempotency-Key`` itself (through
    ``core.idempotency``: 422 ``idempotency_key_required`` without it where it is required,
    422 ``invalid_idempotency_key`` when blank, too long or not printable).

    A new dict on each call: Ninja merges it into the operation in place."""
    return {
        "parameters": [
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": required,
                "description": description,
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
            }
        ]
    }
