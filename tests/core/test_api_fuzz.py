"""Every operation of the OpenAPI document, fed hostile values, answers below 500.

The values: a NUL character (PostgreSQL stores none: it used to reach the database from
several bodies and a path), a number past 64 bits, a long string, dates out of range.
Each call runs in its own savepoint, so one failure cannot hide the next. Run on both
databases like the rest of the suite; PostgreSQL is the one that refuses NULs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from omnimall.core import api_keys
from omnimall.core.actors import Actor
from tests.orders.factories import make_shop, place

pytestmark = pytest.mark.django_db

HOSTILE = [
    ("a\x00b", 1, "2026-11-29T00:00:00+00:00"),
    ("x" * 5000, 2**70, "0001-01-01T00:00:00+14:00"),
    ("\x07\u202e", -1, "9999-12-31T23:59:59-12:00"),
]


class ServerError(Exception):
    pass


def _value(schema: dict[str, Any], spec: dict[str, Any], hostile: tuple[Any, ...]) -> Any:
    """A value of ``schema``'s shape with every leaf hostile (enums keep a valid choice)."""
    text, number, when = hostile
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _value(spec["components"]["schemas"][name], spec, hostile)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _value(options[0], spec, hostile) if options else None
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: _value(v, spec, hostile) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [_value(schema.get("items", {}), spec, hostile)]
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "integer":
        return number
    if kind == "number":
        return str(number)
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return when
    return text


def _call(client: Client, method: str, url: str, **kwargs: Any) -> str | None:
    """None, or what went wrong: a 5xx or an exception (rolled back to a savepoint)."""
    try:
        with transaction.atomic():
            response = getattr(client, method)(url, **kwargs)
            if response.status_code >= 500:
                raise ServerError(response.status_code)
    except Exception as problem:  # the whole point: nothing may escape as a 500
        return repr(problem)[:160]
    return None


@pytest.fixture
def setting():
    placed = place(make_shop())
    key = api_keys.create_api_key(
        name="every-scope", scopes=list(api_keys.KNOWN_SCOPES), actor=Actor.system("tests")
    ).token
    client = Client(raise_request_exception=True, HTTP_X_API_KEY=key, HTTP_IDEMPOTENCY_KEY="k1")
    spec = client.get("/api/v1/openapi.json").json()
    return placed, client, spec


def _url(path: str, parameters: list[dict[str, Any]], number: str, text: str) -> str:
    for parameter in parameters:
        if parameter["in"] == "path":
            name = parameter["name"]
            path = path.replace("{" + name + "}", number if "number" in name else text)
    return path


@pytest.mark.parametrize("hostile", HOSTILE, ids=["nul", "huge", "control"])
def test_no_operation_answers_500_to_hostile_input(setting, hostile):
    placed, client, spec = setting
    failures = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            url = _url(path, parameters, placed.number, hostile[0])
            query = {p["name"]: str(hostile[0]) for p in parameters if p["in"] == "query"}
            body = operation.get("requestBody")
            if body is None:
                problem = _call(client, method, url, **({"data": query} if query else {}))
            else:
                schema = body["content"]["application/json"]["schema"]
                payload = json.dumps(_value(schema, spec, hostile))
                problem = _call(client, method, url, data=payload, content_type="application/json")
            if problem:
                failures.append((method.upper(), url[:80], problem))

    assert failures == []
