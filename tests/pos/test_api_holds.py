"""POST /api/v1/pos/points-holds (+ /commit, /cancel): hold, spend or give back points."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from omnimall.core import clock
from omnimall.members.models import HoldState, PointsHold
from omnimall.members.selectors.points import ledger_mismatches
from omnimall.members.services import points as points_services
from omnimall.pos.models import Receipt
from tests.pos.factories import make_member, make_shop, make_store, pos_token, receipt_body

pytestmark = pytest.mark.django_db

HOLDS = "/api/v1/pos/points-holds"


def post(client, path, body, token):
    return client.post(
        path, json.dumps(body), content_type="application/json", HTTP_X_API_KEY=token
    )


def _hold(client, shop, member, *, points=1000, receipt="R-H1", token=None):
    return post(
        client,
        HOLDS,
        {"member": {"card": member.card_number}, "points": points, "receipt_number": receipt},
        token or shop.token,
    )


def test_points_hold_is_placed_then_spent_by_the_receipt_naming_it(client):
    shop = make_shop()
    member = make_member(points_available=2000)

    held = _hold(client, shop, member)
    replay = _hold(client, shop, member)

    assert held.status_code == 201, held.content
    assert replay.status_code == 200
    assert replay.json()["hold_id"] == held.json()["hold_id"]
    data = held.json()
    assert (data["state"], data["points"]) == ("held", 1000)
    assert data["expires_at"] is not None
    member.refresh_from_db()
    assert (member.points_available, member.points_held) == (1000, 1000)

    body = receipt_body(
        shop,
        number="R-H1",
        member={"card": member.card_number},
        payments=[
            {"method": "points", "amount": "10.00", "points": 1000, "hold_id": data["hold_id"]},
            {"method": "cash", "amount": "90.00"},
        ],
    )
    sale = post(client, "/api/v1/pos/sales", body, shop.token)

    assert sale.status_code == 201, sale.content
    assert sale.json()["points_spent"] == 1000
    member.refresh_from_db()
    assert (member.points_available, member.points_held) == (1000 + 90, 0)
    assert ledger_mismatches() == []


def test_points_hold_commit_then_receipt_spends_once(client):
    shop = make_shop()
    member = make_member(points_available=2000)
    hold_id = _hold(client, shop, member).json()["hold_id"]

    committed = post(client, f"{HOLDS}/{hold_id}/commit", {"receipt_number": "R-H1"}, shop.token)
    again = post(client, f"{HOLDS}/{hold_id}/commit", {"receipt_number": "R-H1"}, shop.token)
    body = receipt_body(
        shop,
        number="R-H1",
        member={"card": member.card_number},
        payments=[{"method": "points", "amount": "10.00", "points": 1000, "hold_id": hold_id}],
    )
    sale = post(client, "/api/v1/pos/sales", body, shop.token)

    assert committed.status_code == 200, committed.content
    assert committed.json()["state"] == "committed"
    assert again.status_code == 200
    assert sale.status_code == 201, sale.content
    member.refresh_from_db()
    assert member.points_available == 1000 + 90
    assert ledger_mismatches() == []


def test_points_hold_cancel_gives_the_points_back(client):
    shop = make_shop()
    member = make_member(points_available=1500)
    hold_id = _hold(client, shop, member).json()["hold_id"]

    cancelled = post(client, f"{HOLDS}/{hold_id}/cancel", {}, shop.token)
    commit = post(client, f"{HOLDS}/{hold_id}/commit", {"receipt_number": "R-H1"}, shop.token)

    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "released"
    assert commit.status_code == 409
    assert commit.json()["error"]["code"] == "points_hold_not_held"
    member.refresh_from_db()
    assert (member.points_available, member.points_held) == (1500, 0)


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("insufficient", 409, "insufficient_points"),
        ("unknown_member", 422, "unknown_member"),
        ("unbound_key", 403, "forbidden_store"),
    ],
)
def test_points_hold_refuses(client, case, status, code):
    shop = make_shop()
    member = make_member(points_available=500)
    body = {"member": {"card": member.card_number}, "points": 1000, "receipt_number": "R1"}
    token = shop.token
    if case == "unknown_member":
        body["member"] = {"phone": "+8613912345678"}
    elif case == "unbound_key":
        token = pos_token(None)

    response = post(client, HOLDS, body, token)

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    if case == "unknown_member":
        assert response.json()["error"]["message"] == "No member has this phone."
    assert PointsHold.objects.count() == 0


@pytest.mark.parametrize("action", ["commit", "cancel"])
def test_points_hold_of_another_store_is_forbidden(client, action):
    shop = make_shop()
    member = make_member(points_available=2000)
    hold_id = _hold(client, shop, member).json()["hold_id"]
    other = pos_token(make_store())

    response = post(client, f"{HOLDS}/{hold_id}/{action}", {"receipt_number": "R-H1"}, other)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden_store"
    assert PointsHold.objects.get(pk=hold_id).state == HoldState.HELD


def test_points_hold_commit_refuses_another_receipt_and_unknown_holds(client):
    shop = make_shop()
    member = make_member(points_available=2000)
    hold_id = _hold(client, shop, member).json()["hold_id"]

    mismatch = post(client, f"{HOLDS}/{hold_id}/commit", {"receipt_number": "R-X"}, shop.token)
    missing = post(client, f"{HOLDS}/999999/commit", {"receipt_number": "R-H1"}, shop.token)

    assert mismatch.status_code == 409
    assert mismatch.json()["error"]["code"] == "hold_receipt_mismatch"
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_hold"


def test_sale_with_a_lapsed_hold_spends_the_points_instead(client):
    shop = make_shop()
    member = make_member(points_available=2000)
    hold_id = _hold(client, shop, member).json()["hold_id"]
    PointsHold.objects.filter(pk=hold_id).update(expires_at=clock.now() - timedelta(minutes=1))
    body = receipt_body(
        shop,
        number="R-H1",
        member={"card": member.card_number},
        payments=[{"method": "points", "amount": "10.00", "points": 1000, "hold_id": hold_id}],
    )

    sale = post(client, "/api/v1/pos/sales", body, shop.token)

    assert sale.status_code == 201, sale.content
    assert sale.json()["points_spent"] == 1000
    assert sale.json()["state"] == "applied"
    member.refresh_from_db()
    assert (member.points_available, member.points_held) == (1000 + 90, 0)
    assert PointsHold.objects.get(pk=hold_id).state == HoldState.EXPIRED
    assert ledger_mismatches() == []
    assert points_services.release_expired_holds() == 0
    assert Receipt.objects.count() == 1


@pytest.mark.parametrize("receipt", ["return:T1", "   "])
def test_points_hold_refuses_a_receipt_number_no_receipt_may_have(client, receipt):
    shop = make_shop()
    member = make_member(points_available=2000)

    response = _hold(client, shop, member, receipt=receipt)

    assert response.status_code == 422, response.content
    assert response.json()["error"]["details"]["errors"][0]["loc"][-1] == "receipt_number"
    assert not PointsHold.objects.exists()
