"""Request bodies: JSON objects only, and a clear word when a body is not one.

Ninja turns anything its parser raises into ``HttpError(400, "Cannot parse request body")``
(raised ``from`` the parser's error); ``core.api.errors`` answers it as 400 ``bad_request``
with the message ``body_problem`` gives. Every body of this API is a JSON object (its
fields are a schema's), so an array, a string, a number or ``null`` is refused here as
400, before the schema is tried: 422 stays for an object whose fields are wrong.

A NUL character (``\u0000``) in any string of a body is refused here too, as 400: no
field of this API may hold one, and PostgreSQL can store it in neither a text column nor
``jsonb``, so a NUL that got through reached the database as a 500.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else "an array"


class BodyNotAnObjectError(ValueError):
    def __init__(self, value: Any) -> None:
        super().__init__(f"The request body must be a JSON object, not {_kind(value)}.")


class BodyHoldsNulError(ValueError):
    def __init__(self, where: str) -> None:
        super().__init__(
            f"The request body holds a NUL character (\\u0000) at {where}, which no field takes."
        )


def _nul_at(value: Any, path: str = "") -> str | None:
    """Where the first NUL is (``address.street``, ``lines[2].sku``), or None."""
    if isinstance(value, str):
        return (path or "the top") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return here.replace("\x00", "\\u0000")
            found = _nul_at(item, here)
            if found:
                return found
    if isinstance(value, list):
        for n, item in enumerate(value):
            found = _nul_at(item, f"{path}[{n}]")
            if found:
                return found
    return None


class JsonObjectParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise BodyNotAnObjectError(data)
        # JSON writes a NUL only as an escape: bodies without one (nearly all) skip the walk.
        if b"\\u0000" in request.body:
            where = _nul_at(data)
            if where:
                raise BodyHoldsNulError(where)
        return data


def body_problem(cause: BaseException | None) -> str | None:
    """What was wrong with a body that ``JsonObjectParser`` refused (None: not a body error)."""
    if isinstance(cause, BodyNotAnObjectError | BodyHoldsNulError):
        return str(cause)
    if isinstance(cause, json.JSONDecodeError):
        return (
            f"The request body is not valid JSON: {cause.msg} "
            f"(line {cause.lineno}, column {cause.colno})."
        )
    if isinstance(cause, UnicodeDecodeError):
        return "The request body is not valid JSON: it is not UTF-8 text."
    return None
