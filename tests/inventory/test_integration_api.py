"""WMS/store integration API: stock reports, receipts, fulfilment requests and shipments."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from omnimall.core import api_keys
from omnimall.core.actors import Actor
from omnimall.core.models import AuditEntry, IdempotencyKey
from omnimall.inventory import services
from omnimall.inventory.errors import InsufficientStockError
from omnimall.inventory.models import (
    FulfilmentState,
    LocationKind,
    MovementKind,
    ReservationState,
    StockMovement,
)
from omnimall.inventory.services.fulfilment import create_fulfilment_request
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus

pytestmark = pytest.mark.django_db

ADMIN = Actor.system("api-tests")
BASE = "/api/v1/inventory"


@pytest.fixture
def world():
    wh1 = make_location("wh-1")
    wh2 = make_location("wh-2")
    st1 = make_location("st-1", kind=LocationKind.STORE)
    st2 = make_location("st-2", kind=LocationKind.STORE)
    skus = make_skus(3)
    for location in (wh1, st1):
        for sku in skus:
            services.receive_stock(
                location_id=location.pk, sku_id=sku.pk, quantity=10, actor=STOCK_ACTOR
            )
    return {"wh1": wh1, "wh2": wh2, "st1": st1, "st2": st2, "skus": skus}


def token(scopes, bound_to=""):
    return api_keys.create_api_key(
        name=f"key-{uuid.uuid4().hex[:6]}", scopes=scopes, actor=ADMIN, bound_to=bound_to
    ).token


@pytest.fixture
def wms():
    return token(["wms"])


def post(client, path, body, key, idem="auto"):
    headers = {"HTTP_X_API_KEY": key}
    if idem == "auto":
        idem = uuid.uuid4().hex
    if idem is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idem
    return client.post(f"{BASE}{path}", body, content_type="application/json", **headers)


def get(client, path, key, **params):
    return client.get(f"{BASE}{path}", params, HTTP_X_API_KEY=key)


def report(location, *lines):
    return {"location": location, "lines": [{"sku": s, "count": c} for s, c in lines]}


def movement_count():
    return StockMovement.objects.count()


# --- stock reports -----------------------------------------------------------------------


def test_stock_report_writes_count_corrections_for_the_differences_only(client, world, wms):
    a, b, c = world["skus"]
    before = movement_count()

    response = post(
        client,
        "/stock-reports",
        report("wh-1", (a.code, 7), (b.code, 10), (c.code, 12)) | {"reference": "CNT-1"},
        wms,
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert [(x["sku"], x["before"], x["after"], x["delta"]) for x in body["lines"]] == [
        (a.code, 10, 7, -3),
        (b.code, 10, 10, 0),
        (c.code, 10, 12, 2),
    ]
    assert body["totals"] == {
        "lines": 3,
        "changed": 2,
        "units_added": 2,
        "units_removed": 3,
        "net": -1,
    }
    assert movement_count() == before + 2
    moves = StockMovement.objects.filter(kind=MovementKind.COUNT_CORRECTION, reference="CNT-1")
    assert sorted(moves.values_list("quantity", flat=True)) == [-3, 2]
    assert {m.actor_kind for m in moves} == {"api_key"}
    assert level_of(world["wh1"], a).on_hand == 7
    assert AuditEntry.objects.filter(action="stock.report_applied").count() == 1
    call_command("check_stock_ledger")


def test_stock_report_creates_the_level_when_a_sku_is_first_counted_somewhere(client, world, wms):
    a, b, _ = world["skus"]

    response = post(client, "/stock-reports", report("wh-2", (a.code, 4), (b.code, 0)), wms)

    assert response.status_code == 201, response.content
    assert level_of(world["wh2"], a).on_hand == 4
    assert not world["wh2"].stock_levels.filter(sku=b).exists()  # a zero needs no level
    call_command("check_stock_ledger")


def test_stock_report_replay_applies_once_and_returns_the_first_response(client, world, wms):
    a = world["skus"][0]
    body = report("wh-1", (a.code, 3))
    first = post(client, "/stock-reports", body, wms, idem="report-1")
    moved = movement_count()

    again = post(client, "/stock-reports", body, wms, idem="report-1")

    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert movement_count() == moved
    assert level_of(world["wh1"], a).on_hand == 3


def test_stock_report_refuses_with_409_when_the_key_is_reused_with_another_body(client, world, wms):
    a = world["skus"][0]
    post(client, "/stock-reports", report("wh-1", (a.code, 3)), wms, idem="report-1")

    response = post(client, "/stock-reports", report("wh-1", (a.code, 4)), wms, idem="report-1")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert level_of(world["wh1"], a).on_hand == 3


def test_stock_report_refuses_with_422_when_the_idempotency_key_is_missing(client, world, wms):
    a = world["skus"][0]

    response = post(client, "/stock-reports", report("wh-1", (a.code, 3)), wms, idem=None)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_required"
    assert "Idempotency-Key" in error["message"]
    assert level_of(world["wh1"], a).on_hand == 10


def test_stock_report_rejects_every_bad_row_and_applies_nothing(client, world, wms):
    a, b, c = world["skus"]
    services.reserve_stock(location_id=world["wh1"].pk, sku_id=c.pk, quantity=4)
    before = movement_count()
    body = report(
        "wh-1",
        (a.code, 1),  # fine on its own
        ("NO-SUCH-SKU", 5),
        (b.code, -1),
        (b.code, 2.5),
        (a.code, 3),
        (c.code, 3),
        (b.code, "seven"),
    )

    response = post(client, "/stock-reports", body, wms, idem="bad-1")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "rows_rejected"
    assert [(r["row"], r["code"]) for r in error["details"]["rows"]] == [
        (1, "unknown_sku"),
        (2, "negative_count"),
        (3, "invalid_count"),
        (3, "duplicate_sku"),
        (4, "duplicate_sku"),
        (5, "below_reserved"),
        (6, "invalid_count"),
        (6, "duplicate_sku"),
    ]
    assert error["details"]["rows"][1]["sku"] == b.code
    assert movement_count() == before
    assert level_of(world["wh1"], a).on_hand == 10
    assert not IdempotencyKey.objects.exists()  # nothing applied, so nothing recorded
    fixed = post(client, "/stock-reports", report("wh-1", (a.code, 1)), wms, idem="bad-1")
    assert fixed.status_code == 201


def test_counts_and_receipts_beyond_a_million_units_are_rejected_rows(client, world, wms):
    a, b, _ = world["skus"]
    before = movement_count()
    huge = 9223372036854775808  # 2**63: would not fit any stock column

    counted = post(
        client, "/stock-reports", report("wh-1", (a.code, huge), (b.code, 1_000_001)), wms
    )
    received = post(
        client,
        "/receipts",
        {"location": "wh-1", "reference": "PO-9", "lines": [{"sku": a.code, "quantity": 10**12}]},
        wms,
    )

    assert counted.status_code == 422
    codes = [r["code"] for r in counted.json()["error"]["details"]["rows"]]
    assert codes == ["count_too_large", "count_too_large"]
    assert received.status_code == 422
    assert received.json()["error"]["details"]["rows"][0]["code"] == "invalid_quantity"
    assert movement_count() == before
    assert level_of(world["wh1"], a).on_hand == 10


def test_stock_report_rejects_an_unknown_location_per_row(client, world, wms):
    a = world["skus"][0]

    response = post(client, "/stock-reports", report("nowhere", (a.code, 1)), wms)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "rows_rejected"
    assert error["details"]["rows"][0]["code"] == "unknown_location"


def test_stock_report_refuses_a_body_that_is_not_a_report(client, world, wms):
    response = post(client, "/stock-reports", {"location": "wh-1", "lines": []}, wms)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


# --- bound keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "bound_to", "location", "status"),
    [
        (["store"], "st-1", "st-1", 201),
        (["store"], "st-1", "st-2", 403),  # another store
        (["store"], "st-1", "wh-1", 403),  # a warehouse
        (["store"], "", "st-1", 403),  # an unbound store key acts nowhere
        (["wms"], "", "wh-1", 201),  # an unbound WMS key: every warehouse
        (["wms"], "", "wh-2", 201),
        (["wms"], "", "st-1", 403),  # but no store
        (["wms"], "wh-1", "wh-1", 201),
        (["wms"], "wh-1", "wh-2", 403),
        (["pos"], "st-1", "st-1", 403),  # no wms/store scope at all
    ],
)
def test_stock_report_is_allowed_only_where_the_key_is_bound(
    client, world, scopes, bound_to, location, status
):
    a = world["skus"][0]
    before = movement_count()

    response = post(
        client, "/stock-reports", report(location, (a.code, 1)), token(scopes, bound_to)
    )

    assert response.status_code == status, response.content
    if status == 403:
        error = response.json()["error"]
        assert error["code"] == "forbidden"
        assert movement_count() == before


def test_store_key_cannot_report_stock_for_another_store(client, world):
    a = world["skus"][0]

    response = post(client, "/stock-reports", report("st-2", (a.code, 1)), token(["store"], "st-1"))

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "forbidden",
        "message": "This API key may not act for this location.",
        "details": {"location": "st-2", "bound_to": "st-1"},
    }
    assert not IdempotencyKey.objects.exists()


def test_integration_api_needs_a_key(client, world):
    response = client.post(f"{BASE}/stock-reports", {}, content_type="application/json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


# --- receipts -------------------------------------------------------------------------------


def test_receipt_adds_units_with_receipt_movements(client, world, wms):
    a, b, _ = world["skus"]
    body = {
        "location": "wh-2",
        "reference": "ASN-42",
        "lines": [{"sku": a.code, "quantity": 5}, {"sku": b.code, "quantity": 2}],
    }

    response = post(client, "/receipts", body, wms, idem="asn-42")
    replay = post(client, "/receipts", body, wms, idem="asn-42")

    assert response.status_code == 201, response.content
    assert [(x["before"], x["after"]) for x in response.json()["lines"]] == [(0, 5), (0, 2)]
    assert replay.json() == response.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert level_of(world["wh2"], a).on_hand == 5
    moves = StockMovement.objects.filter(kind=MovementKind.RECEIPT, reference="ASN-42")
    assert sorted(moves.values_list("quantity", flat=True)) == [2, 5]
    call_command("check_stock_ledger")


def test_receipt_with_a_bad_row_receives_nothing(client, world, wms):
    a, b, _ = world["skus"]
    before = movement_count()
    body = {
        "location": "wh-1",
        "reference": "PO-7",
        "lines": [
            {"sku": a.code, "quantity": 5},
            {"sku": b.code, "quantity": 0},
            {"sku": "NOPE", "quantity": 1},
        ],
    }

    response = post(client, "/receipts", body, wms)

    assert response.status_code == 422
    rows = response.json()["error"]["details"]["rows"]
    assert [(r["row"], r["code"]) for r in rows] == [(1, "invalid_quantity"), (2, "unknown_sku")]
    assert movement_count() == before
    assert level_of(world["wh1"], a).on_hand == 10


# --- fulfilment -------------------------------------------------------------------------------


def make_request(location, sku, quantity=2, reference="ORD-1"):
    hold = services.reserve_stock(location_id=location.pk, sku_id=sku.pk, quantity=quantity)
    return create_fulfilment_request(
        location_id=location.pk,
        reference=reference,
        lines=[(sku.pk, quantity, hold.pk)],
        ship_to={"city": "Shanghai"},
        actor=ADMIN,
    )


def test_fulfilment_requests_list_only_the_keys_locations_with_paging(
    client, world, django_assert_max_num_queries
):
    a = world["skus"][0]
    wh_requests = [make_request(world["wh1"], a, 1, f"ORD-{i}") for i in range(3)]
    make_request(world["st1"], a, 1, "ORD-STORE")
    wms_key = token(["wms"])

    with django_assert_max_num_queries(4):  # key, key touch, requests, lines
        first = get(client, "/fulfilment-requests", wms_key, state="open", limit=2)
    second = get(client, "/fulfilment-requests", wms_key, after=first.json()["next_after"], limit=2)
    store = get(client, "/fulfilment-requests", token(["store"], "st-1"))

    assert first.status_code == 200, first.content
    page = first.json()
    assert [r["number"] for r in page["results"]] == [r.number for r in wh_requests[:2]]
    assert page["results"][0]["lines"][0]["sku"] == a.code
    assert page["results"][0]["ship_to"] == {"city": "Shanghai"}
    assert page["results"][0]["method"] == "ship"
    assert [r["number"] for r in second.json()["results"]] == [wh_requests[2].number]
    assert second.json()["next_after"] is None
    assert [r["reference"] for r in store.json()["results"]] == ["ORD-STORE"]


def test_fulfilment_requests_of_another_location_are_forbidden(client, world):
    a = world["skus"][0]
    request = make_request(world["st1"], a)
    other_store = token(["store"], "st-2")

    listed = get(client, "/fulfilment-requests", other_store, location="st-1")
    accepted = post(client, f"/fulfilment-requests/{request.number}/accept", {}, other_store)

    assert listed.status_code == 403
    assert accepted.status_code == 403
    request.refresh_from_db()
    assert request.state == FulfilmentState.OPEN


def test_store_accepts_then_ships_and_the_holds_become_sales(client, world):
    a = world["skus"][0]
    request = make_request(world["st1"], a, quantity=2)
    key = token(["store"], "st-1")

    accepted = post(client, f"/fulfilment-requests/{request.number}/accept", {}, key)
    again = post(client, f"/fulfilment-requests/{request.number}/accept", {}, key)
    shipped = post(
        client,
        "/shipments",
        {"request": request.number, "carrier": "SF Express", "tracking_number": "SF123"},
        key,
        idem="ship-1",
    )
    replay = post(
        client,
        "/shipments",
        {"request": request.number, "carrier": "SF Express", "tracking_number": "SF123"},
        key,
        idem="ship-1",
    )

    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["state"] == "accepted"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "fulfilment_state"
    assert shipped.status_code == 201, shipped.content
    body = shipped.json()
    assert body["request"]["state"] == "shipped"
    assert body["lines"] == [line.pk for line in request.lines.all()]
    assert replay.json() == body
    level = level_of(world["st1"], a)
    assert (level.on_hand, level.reserved) == (8, 0)
    assert (
        StockMovement.objects.filter(kind=MovementKind.SALE, reference=request.number).count() == 1
    )
    call_command("check_stock_ledger")


def test_a_misspelt_field_is_refused_not_ignored(client, world):
    """``line_ids`` for ``lines`` once shipped every line of the request."""
    a = world["skus"][0]
    request = make_request(world["st1"], a, quantity=2)
    key = token(["store"], "st-1")
    post(client, f"/fulfilment-requests/{request.number}/accept", {}, key)
    first_line = request.lines.first().pk

    shipped = post(
        client,
        "/shipments",
        {
            "request": request.number,
            "carrier": "SF",
            "tracking_number": "T1",
            "line_ids": [first_line],
        },
        key,
    )
    counted = post(client, "/stock-reports", {**report("wh-1", (a.code, 1)), "extra": 1}, key)

    assert shipped.status_code == 422
    assert shipped.json()["error"]["code"] == "validation_failed"
    assert counted.status_code == 422
    request.refresh_from_db()
    assert request.state == "accepted"
    assert not StockMovement.objects.filter(kind=MovementKind.SALE).exists()


def test_shipment_naming_no_lines_is_422_and_ships_nothing(client, world):
    a = world["skus"][0]
    request = make_request(world["st1"], a, quantity=2)
    key = token(["store"], "st-1")

    shipped = post(
        client,
        "/shipments",
        {"request": request.number, "carrier": "SF", "tracking_number": "T1", "lines": []},
        key,
    )

    assert shipped.status_code == 422, shipped.content
    error = shipped.json()["error"]
    assert error["code"] == "validation_failed"
    assert [e["loc"][-1] for e in error["details"]["errors"]] == ["lines"]
    request.refresh_from_db()
    assert request.state == FulfilmentState.OPEN
    assert not request.shipments.exists()
    assert level_of(world["st1"], a).reserved == 2


@pytest.mark.parametrize("when", [1795000000, "2026-11-27", "2026-11-27T10:30:00"])
def test_report_and_shipment_times_are_text_with_an_offset(client, world, wms, when):
    """A number was read as a Unix time and a time without offset as the server's zone,
    though the schema says an RFC 3339 date-time (found by fuzzing the API): 422, and
    nothing counted or shipped."""
    a = world["skus"][0]
    request = make_request(world["st1"], a, quantity=2)
    before = movement_count()

    body = report("wh-1", (a.code, 3)) | {"counted_at": when}
    counted = post(client, "/stock-reports", body, wms)
    shipped = post(
        client,
        "/shipments",
        {"request": request.number, "carrier": "SF", "tracking_number": "T1", "shipped_at": when},
        token(["store"], "st-1"),
    )

    for response, field in ((counted, "counted_at"), (shipped, "shipped_at")):
        assert response.status_code == 422, response.content
        assert response.json()["error"]["code"] == "validation_failed"
        assert response.json()["error"]["details"]["errors"][0]["loc"][-1] == field
    assert movement_count() == before
    assert not request.shipments.exists()


@pytest.mark.parametrize("line", ["{id}", True, "x"])
def test_shipment_line_ids_are_json_integers_only(client, world, line):
    """A line id given as a string, or true (read as line 1), was taken though the schema
    says integer (found by fuzzing the API): 422 and nothing shipped."""
    a = world["skus"][0]
    request = make_request(world["st1"], a, quantity=2)
    line_id = request.lines.get().pk
    line = line.format(id=line_id) if isinstance(line, str) else line
    key = token(["store"], "st-1")

    shipped = post(
        client,
        "/shipments",
        {"request": request.number, "carrier": "SF", "tracking_number": "T1", "lines": [line]},
        key,
    )

    assert shipped.status_code == 422, shipped.content
    assert shipped.json()["error"]["code"] == "validation_failed"
    request.refresh_from_db()
    assert request.state == FulfilmentState.OPEN
    assert not request.shipments.exists()


def test_store_rejects_with_a_reason_and_the_holds_are_released(client, world):
    a = world["skus"][0]
    request = make_request(world["st1"], a, quantity=3)
    key = token(["store"], "st-1")

    no_reason = post(client, f"/fulfilment-requests/{request.number}/reject", {}, key)
    rejected = post(
        client, f"/fulfilment-requests/{request.number}/reject", {"reason": "damaged"}, key
    )
    ship = post(
        client,
        "/shipments",
        {"request": request.number, "carrier": "SF", "tracking_number": "1"},
        key,
    )

    assert no_reason.status_code == 422
    assert rejected.status_code == 200, rejected.content
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["rejection_reason"] == "damaged"
    assert level_of(world["st1"], a).reserved == 0
    assert request.lines.get().reservation.state == ReservationState.RELEASED
    assert ship.status_code == 409


def test_unknown_fulfilment_request_is_404(client, world, wms):
    response = post(client, "/fulfilment-requests/FR-999999/accept", {}, wms)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_fulfilment_request"


def test_openapi_schema_renders_the_integration_endpoints(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/inventory/stock-reports",
        "/api/v1/inventory/receipts",
        "/api/v1/inventory/fulfilment-requests",
        "/api/v1/inventory/fulfilment-requests/{number}/accept",
        "/api/v1/inventory/fulfilment-requests/{number}/reject",
        "/api/v1/inventory/shipments",
    ):
        assert path in paths
    params = paths["/api/v1/inventory/stock-reports"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in params)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_stock_reports_in_opposite_orders_and_buyers_race_without_deadlock_or_drift():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    location = make_location("wh-race")
    skus = make_skus(4)
    for sku in skus:
        services.receive_stock(location_id=location.pk, sku_id=sku.pk, quantity=50, actor=ADMIN)
    key = token(["wms"])
    barrier = threading.Barrier(12)

    def work(i: int) -> str:
        try:
            barrier.wait(timeout=30)
            if i % 3 == 2:  # a buyer
                try:
                    services.reserve_stock(
                        location_id=location.pk, sku_id=skus[i % 4].pk, quantity=1
                    )
                except InsufficientStockError:
                    return "refused"
                return "held"
            ordered = skus if i % 2 else list(reversed(skus))
            body = report("wh-race", *((s.code, 40 + i) for s in ordered))
            return str(post(Client(), "/stock-reports", body, key).status_code)
        finally:
            connection.close()

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(work, range(12)))

    assert outcomes.count("201") == 8, outcomes  # no deadlock, no refusal
    assert outcomes.count("held") == 4
    reported = {40 + i for i in range(12) if i % 3 != 2}
    levels = [level_of(location, sku) for sku in skus]
    assert len({level.on_hand for level in levels}) == 1  # reports applied whole, one by one
    assert levels[0].on_hand in reported
    assert [level.reserved for level in levels] == [1, 1, 1, 1]
    call_command("check_stock_ledger")
