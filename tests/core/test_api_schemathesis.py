"""Property-based fuzzing of every operation of the HTTP API with Schemathesis.

The OpenAPI document the API publishes (``omnimall.api.api.get_openapi_schema()``, the one
served at ``/api/v1/openapi.json``) drives Schemathesis: for each operation it sends the
schema's examples, boundary cases (the coverage phase: too long, too short, wrong type,
missing) and Hypothesis-generated requests, valid and invalid, in process through Django's
WSGI handler. Every response must

- not be a server error (5xx);
- have a status the operation documents, and for every 4xx the JSON error body
  ``{"error": {"code", "message", "details"}}``;
- match the documented body schema, content type and headers;
- refuse what the schema calls invalid (a 4xx) and accept what it calls valid (see
  ``accepts_valid_data`` and the expected statuses below), need its declared credentials
  (401/403 without them), and answer a required header left out with a 4xx;
- and a refused request (4xx) leaves nothing written: the tables it wrote to are
  compared before and after (``_call``, ``ALLOWED_WRITES_ON_REFUSAL``).

To reach the handlers and not only the routing, a shop is built for each operation
(``world``): SKUs with stock, a cart with a line, an unpaid and a paid order, a member
with points and a points hold, a partner with transfers, a signed-in shopper with a
saved address; the integration keys (WMS, POS bound to its store, invoices) and the
partner's signature are added to the requests, and most generated requests have their
identifiers (path parameters, SKU codes, store codes, guest tokens…) swapped for real
ones (``_realistic``). Some requests go without any credentials, and Schemathesis' own
``ignored_auth`` probes send them without or with wrong ones.

Each request runs inside a savepoint that is rolled back, so every example starts from
the same shop and the run is deterministic (``derandomize``). The number of generated
examples per operation is ``OMNIMALL_FUZZ_EXAMPLES`` (default 25, which keeps the module
around a minute on two cores); raise it for a deeper local run, e.g.
``OMNIMALL_FUZZ_EXAMPLES=300 pytest tests/core/test_api_schemathesis.py -n 2``.
"""

from __future__ import annotations

import io
import json
import os
import re
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from hypothesis import HealthCheck, settings
from schemathesis import CheckContext
from schemathesis.checks import not_a_server_error
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from omnimall.api import api
from omnimall.checkout.services import addresses, carts
from omnimall.core import api_keys, shopper_tokens
from omnimall.core.models import ApiKey, ShopperToken
from omnimall.inventory.models import FulfilmentRequest
from omnimall.members.models import PartnerNonce
from omnimall.members.partners import outbound, signing, transfers
from omnimall.orders.services import invoices
from omnimall.pos.services import holds
from tests.members.partners.factories import make_partner
from tests.orders.factories import ACTOR, make_paid_order, make_shop, place, request_ids
from tests.pos.factories import make_member

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("OMNIMALL_FUZZ_EXAMPLES", "25"))

SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=schemathesis.Config())
SCHEMA.config.generation.update(
    max_examples=EXAMPLES,
    deterministic=True,  # Hypothesis' derandomize: the same requests on every run
    database="none",  # no .hypothesis/ directory, nothing replayed from an earlier run
    # The credentials are the world's (``_credentials``), added to each request; generated
    # ones would only ever be wrong, and ``ignored_auth`` probes those cases anyway.
    with_security_parameters=False,
)
# Schema-valid requests the API refuses on purpose: 422 for domain rules the schema cannot
# state (a phone number that is not one, "sku or sku_id but not both", a tax id's checksum,
# stock to sell), with the JSON error body like any 4xx. A 400 (the body could not be
# read) or a 5xx for a schema-valid request still fails the check.
SCHEMA.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "401", "403", "404", "409", "422", "429"]
)

SHOPPER_PASSWORD = "pw-fuzz-123456!"
NUL = "\x00"


# --- the shop every operation is fuzzed against ----------------------------------------


@dataclass
class World:
    headers: dict[str, dict[str, str]]  # credentials by kind: wms, pos, invoices, shopper
    path: dict[str, dict[str, Any]]  # real path parameters by operation path
    query: dict[str, Any]
    body: dict[str, Any]  # real values by body field name
    partner_key: str = ""
    partner_secret: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # order number -> guest token


def _build_world(settings: Any) -> World:
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    shop = make_shop(units=50)
    sku = shop.skus[0]
    product = sku.product
    unpaid = place(shop)
    paid = make_paid_order(shop)
    invoices.request_invoice(
        order_id=paid.pk,
        details=invoices.clean_invoice(
            kind="personal",
            title="",
            tax_id="",
            email="",
            contact_name="Li Lei",
            contact_email="shopper@example.com",
        ),
        actor=ACTOR,
    )
    request_numbers = list(
        FulfilmentRequest.objects.filter(pk__in=request_ids(paid)).values_list("number", flat=True)
    )
    line_ids = list(paid.lines.values_list("pk", flat=True))

    cart = carts.create_cart(user=None)
    carts.add_line(token=cart.token, user=None, sku_code=sku.code, quantity=1)
    cart_line_id = cart.lines.values_list("pk", flat=True).first()

    shopper = get_user_model().objects.create_user(
        username="fuzz-shopper", email="fuzz@example.com", password=SHOPPER_PASSWORD
    )
    issued = shopper_tokens.issue(user=shopper, device="fuzz")
    address = addresses.save_address(
        user=shopper,
        data={
            "name": "Li Lei",
            "phone": "13800138000",
            "province": "上海市",
            "city": "上海",
            "district": "黄浦区",
            "street": "南京东路 1 号",
        },
    )

    member = make_member(points_available=5000)
    hold = holds.place_till_hold(
        store_code=shop.store.code,
        receipt_number="FUZZ-HOLD-1",
        phone=member.phone,
        card="",
        points=100,
        actor=ACTOR,
    )
    kit = make_partner("fuzzbank")
    transfers.receive_transfer(
        partner=kit.partner,
        transaction_id="FUZZ-IN-1",
        phone=member.phone,
        card="",
        partner_points=100,
        partner_account="",
        actor=ACTOR,
    )
    outbound.request_outbound_transfer(
        member_id=member.pk,
        partner_id=kit.partner.pk,
        brand_points=1000,
        transaction_id="FUZZ-OUT-1",
        actor=ACTOR,
    )

    def key(scopes: list[str], bound_to: str = "") -> str:
        return api_keys.create_api_key(
            name=f"fuzz-{uuid.uuid4().hex[:6]}", scopes=scopes, actor=ACTOR, bound_to=bound_to
        ).token

    unpaid_number = unpaid.number
    return World(
        headers={
            "wms": {"X-Api-Key": key(["wms"])},
            "pos": {"X-Api-Key": key(["pos"], bound_to=shop.store.code)},
            "invoices": {"X-Api-Key": key(["invoices"])},
            "shopper": {"Authorization": f"Bearer {issued.token}"},
        },
        path={
            "slug": {"*": product.slug},
            "token": {"/api/v1/carts": cart.token},
            "line_id": {"*": cart_line_id},
            "number": {
                "/api/v1/inventory": request_numbers[0],
                "/api/v1/orders/{number}/delivery": paid.number,
                "/api/v1/orders/{number}/returns": paid.number,
                "/api/v1/orders/{number}/invoice-request": paid.number,
                "*": unpaid_number,
            },
            "order_number": {"*": paid.number},
            "token_id": {"*": issued.record.pk},
            "address_id": {"*": address.pk},
            "hold_id": {"*": hold.hold_id},
            "transaction_id": {
                "/api/v1/partners/points-transfers/{transaction_id}/confirm": "FUZZ-OUT-1",
                "*": "FUZZ-IN-1",
            },
        },
        query={
            "city": "Shanghai",
            "category": product.category.full_slug,
            "phone": member.phone,
            "card": member.card_number,
            "location": shop.warehouse.code,
        },
        body={
            "sku": sku.code,
            "sku_id": sku.pk,
            "store": shop.store.code,
            "referral_store": shop.store.code,
            "location": shop.warehouse.code,
            "order": paid.number,
            "phone": member.phone.removeprefix("+86"),  # a mobile as shoppers type it
            "card": member.card_number,
            "request": request_numbers[0],
            "name": "Li Lei",
            "province": "上海市",
            "city": "上海",
            "district": "黄浦区",
            "street": "南京东路 1 号",
            "postal_code": "200001",
            "contact": "shopper@example.com",
            "email": shopper.email,
            "password": SHOPPER_PASSWORD,
            "line_id": line_ids[0],
            "hold_id": hold.hold_id,
            "cart": cart.token,
        },
        partner_key=kit.partner.key_id,
        partner_secret=kit.secret,
        tokens={unpaid_number: unpaid.guest_token, paid.number: paid.guest_token},
    )


# --- the application, in process -------------------------------------------------------

_DJANGO = WSGIHandler()
_PARTNER: dict[str, str] = {}  # the world's partner: key id and secret


def _signing_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Django, behind the partner's signing client: a request to ``/partners`` naming the
    world's partner key (and no signature of its own) is signed over the exact bytes sent,
    as a partner's client would. Without the key, or with another, it goes unsigned."""
    if (
        environ.get("PATH_INFO", "").startswith("/api/v1/partners/")
        and _PARTNER
        and environ.get("HTTP_X_PARTNER_KEY") == _PARTNER["key"]
        and "HTTP_X_SIGNATURE" not in environ
    ):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        query = environ.get("QUERY_STRING", "")
        path = environ["PATH_INFO"] + (f"?{query}" if query else "")
        for name, value in signing.signed_headers(
            key_id=_PARTNER["key"],
            secret=_PARTNER["secret"],
            method=environ["REQUEST_METHOD"],
            path=path,
            body=body,
        ).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    return _DJANGO(environ, start_response)


SCHEMA.app = _signing_app  # every call (and every probe of a check) goes in process


@pytest.fixture
def world(settings) -> Iterator[World]:
    # Django's test client does the same: the test's transaction must outlive each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        built = _build_world(settings)
        _PARTNER.update(key=built.partner_key, secret=built.partner_secret)
        _WORLD.append(built)
        yield built
    finally:
        _WORLD.clear()
        _PARTNER.clear()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# --- requests: credentials and real identifiers ----------------------------------------


def _coin(case: Any, salt: str) -> int:
    """A number 0-99 that depends only on the generated request (so a failing example
    replays and shrinks the same way), not on a random source."""
    content = json.dumps(
        [salt, case.path_parameters, case.query, case.body], sort_keys=True, default=repr
    )
    return zlib.crc32(content.encode("utf-8", "surrogatepass")) % 100


def _credentials(case: Any, world: World) -> dict[str, str]:
    path = case.path
    if _coin(case, "anonymous") < 15:
        return {}  # no credentials at all: secured operations must answer 401
    if path.startswith("/api/v1/partners/"):
        return {signing.KEY_HEADER: world.partner_key}
    if path.startswith("/api/v1/inventory/") or path.endswith("/delivery"):
        return dict(world.headers["wms"])
    if path.startswith("/api/v1/pos/"):
        return dict(world.headers["pos"])
    if path.startswith("/api/v1/invoices"):
        return dict(world.headers["invoices"])
    return dict(world.headers["shopper"])


def _real_path_value(world: World, name: str, path: str) -> Any:
    choices = world.path.get(name)
    if choices is None:
        return None
    for prefix, value in choices.items():
        if prefix != "*" and path.startswith(prefix):
            return value
    return choices.get("*")


def _swap(container: dict[str, Any], name: str, real: Any) -> None:
    """Put the real value in place of a generated one of the same JSON type."""
    if real is None or name not in container:
        return
    current = container[name]
    if isinstance(current, bool) or type(current) is not type(real):
        return
    container[name] = real


def _walk_body(value: Any, world: World) -> None:
    if isinstance(value, dict):
        for name in list(value):
            _swap(value, name, world.body.get(name))
            _walk_body(value[name], world)
        if value.get("sku") and value.get("sku_id"):  # a line names its SKU one way
            value["sku_id"] = None
    elif isinstance(value, list):
        for item in value:
            _walk_body(item, world)


def _realistic(case: Any, world: World) -> None:
    """Swap generated identifiers for the world's real ones (in three requests of four),
    so that requests get past "no such cart/order/SKU" into the handlers' own rules."""
    if _coin(case, "realistic") >= 75:
        return
    path = case.operation.path
    for name in list(case.path_parameters or {}):
        _swap(case.path_parameters, name, _real_path_value(world, name, path))
    _walk_body(case.body, world)
    body = case.body if isinstance(case.body, dict) else {}
    # An order's guest token goes with the order named in the path or the body.
    number = str((case.path_parameters or {}).get("number") or body.get("order") or "")
    for name in list(case.query or {}):
        real = world.tokens.get(number) if name == "token" else world.query.get(name)
        _swap(case.query, name, real)
    _swap(body, "token", world.tokens.get(number))


def _whole_floats_as_ints(value: Any) -> Any:
    """JSON Schema counts 9.0 as an integer and Schemathesis sends such numbers for
    integer fields; the API's integer fields are strict (``StrictInt``: 9.0, "9" and
    true are refused with 422, on purpose, so a client's float never becomes a
    quantity). Sent as 9 instead; a non-whole 9.5 stays and must be refused."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_floats_as_ints(item) for item in value]
    return value


_WORLD: list[World] = []  # the world of the test running now (one at a time per process)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Make the request realistic here, not in the test: Schemathesis re-checks a case
    edited by this hook, so a generated invalid value replaced by a real one no longer
    counts as "invalid data that must be refused"."""
    if not _WORLD:  # another test's Schemathesis (there is none today)
        return
    _realistic(case, _WORLD[0])
    if isinstance(case.body, dict | list):
        case.body = _whole_floats_as_ints(case.body)


# --- checks ------------------------------------------------------------------------------


def _is_error_body(payload: Any) -> bool:
    if not isinstance(payload, dict) or set(payload) != {"error"}:
        return False
    error = payload["error"]
    return (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and bool(error["code"])
        and isinstance(error.get("message"), str)
        and bool(error["message"])
        and isinstance(error.get("details"), dict)
    )


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def errors_are_json(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """Every 4xx carries ``{"error": {"code", "message", "details"}}`` as JSON."""
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith("application/json"), (
            f"{response.status_code} answered as {content_type or 'no content type'}: "
            f"{response.content[:200]!r}"
        )
        assert _is_error_body(_json(response)), (
            f"{response.status_code} without the JSON error body: {response.content[:300]!r}"
        )
    return None


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def accepts_valid_data(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """``positive_data_acceptance``, except for a NUL character: JSON Schema's strings
    may hold one, the API refuses it everywhere on purpose (400 ``bad_request`` for a
    body, 4xx for a parameter: PostgreSQL can store none; ``core.api.parser``)."""
    if any(
        _holds_nul(part) for part in (case.body, case.query, case.path_parameters, case.headers)
    ):
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,  # every status an operation answers is in its responses
    errors_are_json,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    accepts_valid_data,
    missing_required_header,
    ignored_auth,
    unsupported_method,
]

# --- nothing half-written -----------------------------------------------------------------

# Any write in a statement, also inside a CTE (``WITH held AS (UPDATE …) INSERT …``);
# words that are no table (``DO UPDATE SET``, ``FOR UPDATE OF``) are dropped by name.
_WRITE = re.compile(r'\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)

# Tables a refused request may still write to, by design:
ALLOWED_WRITES_ON_REFUSAL = {
    # the key's last use, touched on authentication (once a minute), before the handler
    ApiKey._meta.db_table,
    # a shopper token's last use and sliding expiry, touched on authentication
    ShopperToken._meta.db_table,
    # a partner's nonce is claimed once the signature is verified, before the body is
    # read, so that a replay of the same signed request is refused even if the first
    # one was (members.partners.services.authenticate_request)
    PartnerNonce._meta.db_table,
}


@contextmanager
def _tables_written() -> Iterator[set[str]]:
    tables: set[str] = set()

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        tables.update(match.group(1) for match in _WRITE.finditer(sql))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield tables


def _snapshot(tables: Iterable[str]) -> dict[str, list[str]]:
    quote = connection.ops.quote_name
    rows: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        known = set(connection.introspection.table_names(cursor))
        for table in sorted(set(tables) & known):
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 - our table names
            rows[table] = sorted(repr(row) for row in cursor.fetchall())
    return rows


def _call(case: Any, headers: dict[str, str]) -> tuple[Any, dict[str, list[str]] | None]:
    """Send the request in a savepoint, then roll it back; for a refused request (4xx) that
    wrote somewhere, what those tables held after it and (rolled back) before it."""
    cache.clear()  # throttles count in the cache: each example starts with none
    savepoint = transaction.savepoint()
    with _tables_written() as written:
        try:
            response = case.call(headers=headers)
        except BaseException:
            transaction.savepoint_rollback(savepoint)
            raise
    suspicious = written - ALLOWED_WRITES_ON_REFUSAL
    after = _snapshot(suspicious) if 400 <= response.status_code < 500 and suspicious else None
    transaction.savepoint_rollback(savepoint)
    if after is None:
        return response, None
    before = _snapshot(suspicious)
    changed = {table: rows for table, rows in after.items() if before[table] != rows}
    return response, changed or None


@SCHEMA.parametrize()
@settings(
    # ``world`` is built once per operation on purpose (a shop costs ~0.3 s); each example
    # runs in a savepoint rolled back after it, so examples cannot see each other's writes.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_api_operation_keeps_its_contract(case, world):
    headers = _credentials(case, world)

    response, half_written = _call(case, headers)

    assert half_written is None, (
        f"{case.method} {case.formatted_path} was refused with {response.status_code} "
        f"but left rows behind in {sorted(half_written)}: {response.content[:300]!r}"
    )
    savepoint = transaction.savepoint()  # the checks' own probes (ignored_auth) too
    try:
        case.validate_response(
            response, checks=CHECKS, headers=headers, transport_kwargs={"headers": headers}
        )
    finally:
        transaction.savepoint_rollback(savepoint)


class _WritesThenRefuses:
    """A request that writes a row and answers 422: what the half-write check is for."""

    status_code = 422

    def call(self, headers: dict[str, str]) -> Any:
        ApiKey.objects.create(name="left", prefix="left0001", hashed_secret="x", scopes=[])
        PartnerNonce.objects.all().delete()  # allowed: not reported
        make_member()
        return self


def test_a_refused_request_that_leaves_a_row_behind_is_reported():
    response, half_written = _call(_WritesThenRefuses(), headers={})

    assert response.status_code == 422
    assert half_written is not None
    assert "members_member" in half_written
    assert ApiKey._meta.db_table not in half_written  # a key's last use may be touched
    assert not ApiKey.objects.filter(name="left").exists()  # rolled back all the same
