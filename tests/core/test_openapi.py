"""The generated OpenAPI document (``/api/v1/openapi.json``) as integrators read it.

Ninja puts every schema class under ``components/schemas`` by its class name and lets a
later class overwrite an earlier one of the same name, so two apps' ``StoreOut`` once showed
one app's fields for the other's endpoints. These tests walk every operation's input and
output schema classes.
"""

from __future__ import annotations

import json
import typing
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from ninja.openapi.schema import REF_TEMPLATE
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import BaseModel, TypeAdapter

from omnimall.api import api

pytestmark = pytest.mark.django_db


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def _reachable(roots: list[type[BaseModel]]) -> set[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    todo = list(roots)
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for field in model.model_fields.values():
            todo.extend(_models_in(field.annotation))
    return seen


def _schema_classes() -> set[type[BaseModel]]:
    """Every class an operation's parameters, body or responses are made of.

    Ninja wraps them in classes of its own (the body or query wrapper, the response
    wrapper) that are inlined in the operation, not put in the components: start below.
    """
    wrappers: list[type[BaseModel]] = []
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                if not operation.include_in_schema:
                    continue
                wrappers.extend(operation.models)
                wrappers.extend(
                    model
                    for model in operation.response_models.values()
                    if isinstance(model, type) and issubclass(model, BaseModel)
                )
    roots = [
        model
        for wrapper in wrappers
        for field in wrapper.model_fields.values()
        for model in _models_in(field.annotation)
    ]
    return _reachable(roots)


def _component(model: type[BaseModel], mode: Any) -> tuple[str, dict[str, Any]] | None:
    """The component name and schema Ninja gives ``model`` (None when it is inlined)."""
    schema = TypeAdapter(list[model]).json_schema(
        ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema, mode=mode
    )
    ref = schema["items"].get("$ref")
    if ref is None:
        return None
    name = ref.removeprefix("#/components/schemas/")
    return name, schema["$defs"][name]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@pytest.fixture
def document(client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_openapi_gives_each_schema_class_its_own_component_name():
    names: dict[str, set[str]] = defaultdict(set)

    for model in _schema_classes():
        component = _component(model, "validation")
        if component is not None:
            names[component[0]].add(f"{model.__module__}.{model.__qualname__}")

    shared = {name: sorted(classes) for name, classes in names.items() if len(classes) > 1}
    assert not shared, f"component names used by several schema classes: {shared}"
    assert len(names) > 50  # the walk reached the API's schemas


def test_openapi_components_show_the_fields_of_their_own_class(document):
    components = document["components"]["schemas"]

    for model in _schema_classes():
        shapes = [_component(model, mode) for mode in ("validation", "serialization")]
        named = [shape for shape in shapes if shape is not None]
        if not named:
            continue
        name = named[0][0]
        assert name in components, name
        assert components[name] in [schema for _, schema in named], name


def test_openapi_refs_all_resolve(document):
    components = document["components"]["schemas"]

    refs = set(_refs(document))

    assert refs
    unresolved = sorted(
        ref for ref in refs if ref.removeprefix("#/components/schemas/") not in components
    )
    assert not unresolved
    assert all(ref.startswith("#/components/schemas/") for ref in refs)


def test_every_operation_taking_a_json_body_documents_the_400_for_a_bad_one(document):
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
        and "400" not in operation.get("responses", {})
    ]

    assert not undocumented


def test_a_nul_anywhere_in_a_body_is_400_before_any_field_is_read(client):
    """PostgreSQL stores a NUL in neither text nor jsonb: it used to reach the database
    from several bodies (a cart's referral store, stock reports…) and answer 500."""
    bodies = {
        "referral_store": {"referral_store": "sh\u00001"},
        "nested[0].deep.k\\u0000ey": {"nested": [{"deep": {"k\u0000ey": 1}}]},
    }
    for where, body in bodies.items():
        refused = client.post("/api/v1/carts", json.dumps(body), content_type="application/json")

        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "bad_request"
        assert f"NUL character (\\u0000) at {where}," in refused.json()["error"]["message"]
    fine = client.post(
        "/api/v1/carts", json.dumps({"referral_store": "\\u0000"}), content_type="application/json"
    )
    assert fine.status_code == 201  # a backslash and "u0000" as text are no NUL


def test_an_optional_body_is_documented_as_its_object_not_as_null(document, client):
    """Ninja documented ``payload: CartIn | None`` as ``anyOf: [CartIn, null]``, promising
    that a JSON null body is taken; the parser refuses it (400), so the body is documented
    as optional and, when sent, the object (found by fuzzing the API)."""
    optional = {
        f"{method.upper()} {path}": operation["requestBody"]
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("requestBody", {}).get("required") is False
    }

    assert set(optional) == {"POST /api/v1/carts", "POST /api/v1/orders/{number}/delivery"}
    for body in optional.values():
        assert "$ref" in body["content"]["application/json"]["schema"]
    refused = client.post("/api/v1/carts", "null", content_type="application/json")
    assert refused.status_code == 400
    left_out = client.post("/api/v1/carts", content_type="application/json")
    assert left_out.status_code == 201, left_out.content  # no body at all: fine


def _idempotency_header(operation: dict[str, Any]) -> dict[str, Any] | None:
    headers = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
    assert len(headers) <= 1
    return headers[0] if headers else None


def test_the_idempotency_key_header_is_documented_as_the_api_reads_it(document):
    """Required on every integration POST (422 ``idempotency_key_required`` without it:
    the document called it optional), optional at checkout; 1 to 200 characters."""
    documented = {
        f"{method.upper()} {path}": header
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if (header := _idempotency_header(operation)) is not None
    }

    assert {name for name, header in documented.items() if header["required"]} == {
        "POST /api/v1/inventory/stock-reports",
        "POST /api/v1/inventory/receipts",
        "POST /api/v1/inventory/fulfilment-requests/{number}/accept",
        "POST /api/v1/inventory/fulfilment-requests/{number}/reject",
        "POST /api/v1/inventory/shipments",
        "POST /api/v1/pickups/{code}/hand-over",
    }
    assert {name for name, header in documented.items() if not header["required"]} == {
        "POST /api/v1/carts/{token}/checkout"
    }
    for header in documented.values():
        assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 200}
