"""Request bodies: JSON objects only, and a clear word when a body is not one.

Ninja turns anything its parser raises into ``HttpError(400, "Cannot parse request body")``
(raised ``from`` the parser's error); ``core.api.errors`` answers it as 400 ``bad_request``
with the message ``body_problem`` gives. Every body of this API is a JSON object (its
fields are a schema's), so an array, a string, a number or ``null`` is refused here as
400, before the schema is tried: 422 stays for an object whose fields are wrong.
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


class JsonObjectParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise BodyNotAnObjectError(data)
        return data


def body_problem(cause: BaseException | None) -> str | None:
    """What was wrong with a body that ``JsonObjectParser`` refused (None: not a body error)."""
    if isinstance(cause, BodyNotAnObjectError):
        return str(cause)
    if isinstance(cause, json.JSONDecodeError):
        return (
            f"The request body is not valid JSON: {cause.msg} "
            f"(line {cause.lineno}, column {cause.colno})."
        )
    if isinstance(cause, UnicodeDecodeError):
        return "The request body is not valid JSON: it is not UTF-8 text."
    return None
