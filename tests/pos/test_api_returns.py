"""POST /api/v1/pos/returns: status codes and bodies."""

from __future__ import annotations

import json

import pytest

from omnimall.inventory.models import MovementKind, StockMovement
from omnimall.members.models import MemberPurchase
from omnimall.pos.models import TillReturn
from tests.inventory.factories import level_of
from tests.pos.factories import (
    make_member,
    make_shop,
    make_store,
    pos_token,
    receipt_body,
    return_body,
    return_of,
)

pytestmark = pytest.mark.django_db


def post(client, path, body, token):
    return client.post(
        path, json.dumps(body), content_type="application/json", HTTP_X_API_KEY=token
    )


def _sold(client, shop, member):
    body = receipt_body(
        shop, lines=[(shop.skus[0], 2, "40.00")], member={"card": member.card_number}
    )
    assert post(client, "/api/v1/pos/sales", body, shop.token).status_code == 201
    return body["receipt_number"]


def test_post_return_answers_201_then_200_with_the_same_body(client):
    shop = make_shop()
    member = make_member()
    number = _sold(client, shop, member)
    body = return_body(
        shop,
        receipt_number=number,
        lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": "40.00", "line_no": 1}],
    )

    first = post(client, "/api/v1/pos/returns", body, shop.token)
    again = post(client, "/api/v1/pos/returns", body, shop.token)

    assert first.status_code == 201, first.content
    assert again.status_code == 200
    assert again.json() == first.json()
    data = first.json()
    assert data["receipt_number"] == number
    assert data["member_card"] == member.card_number
    assert (data["refund_total"], data["points_reversed"]) == ("40.00", 40)
    assert data["lines"] == [
        {"line_no": 1, "sku": shop.skus[0].code, "quantity": 1, "amount": "40.00"}
    ]


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("conflict", 409, "return_conflict"),
        ("other_store_key", 403, "forbidden_store"),
        ("unknown_receipt", 422, "unknown_receipt"),
        ("too_many", 422, "return_exceeds_sale"),
        ("no_receipt_no_staff", 422, "validation_failed"),
    ],
)
def test_post_return_refuses(client, case, status, code):
    shop = make_shop()
    number = _sold(client, shop, make_member())
    line = {"sku": shop.skus[0].code, "quantity": 1, "amount": "40.00"}
    body = return_body(shop, receipt_number=number, lines=[line])
    token = shop.token
    if case == "conflict":
        assert post(client, "/api/v1/pos/returns", body, token).status_code == 201
        body["lines"][0]["amount"] = "39.00"
    elif case == "other_store_key":
        token = pos_token(make_store())
    elif case == "unknown_receipt":
        body["receipt_number"] = "NOPE"
    elif case == "too_many":
        body["lines"][0]["quantity"] = 3
    elif case == "no_receipt_no_staff":
        body["receipt_number"] = ""

    response = post(client, "/api/v1/pos/returns", body, token)

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert TillReturn.objects.count() == (1 if case == "conflict" else 0)


def _state(shop, member):
    """What a return can move: returns, the store's stock, the member's points and spend."""
    member.refresh_from_db()
    return (
        TillReturn.objects.count(),
        StockMovement.objects.filter(kind=MovementKind.RETURN).count(),
        level_of(shop.store, shop.skus[0]).on_hand,
        member.points_available,
        MemberPurchase.objects.filter(member=member).count(),
    )


@pytest.mark.parametrize("against_receipt", [True, False])
def test_post_return_retried_with_the_same_reason_and_staff_is_applied_once(
    client, against_receipt
):
    shop = make_shop()
    member = make_member()
    number = _sold(client, shop, member)
    body = return_body(
        shop,
        receipt_number=number if against_receipt else "",
        authorised_by="Li Na (manager)",
        reason="wrong size",
        lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": "40.00"}],
    )
    first = post(client, "/api/v1/pos/returns", body, shop.token)
    after_first = _state(shop, member)

    again = post(client, "/api/v1/pos/returns", body, shop.token)

    assert (first.status_code, again.status_code) == (201, 200), again.content
    assert again.json() == first.json()
    assert _state(shop, member) == after_first
    assert after_first[:3] == (1, 1, 9)  # one return, one movement: 10 - 2 sold + 1 back


@pytest.mark.parametrize(
    ("field", "value"),
    [("reason", "changed her mind"), ("authorised_by", "Zhang Wei"), ("reason", "")],
)
@pytest.mark.parametrize("against_receipt", [True, False])
def test_post_return_refuses_a_retry_with_another_reason_or_staff(
    client, against_receipt, field, value
):
    shop = make_shop()
    member = make_member()
    number = _sold(client, shop, member)
    body = return_body(
        shop,
        receipt_number=number if against_receipt else "",
        authorised_by="Li Na (manager)",
        reason="wrong size",
        lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": "40.00"}],
    )
    assert post(client, "/api/v1/pos/returns", body, shop.token).status_code == 201
    before = _state(shop, member)

    response = post(client, "/api/v1/pos/returns", {**body, field: value}, shop.token)

    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "return_conflict"
    assert _state(shop, member) == before
    stored = TillReturn.objects.get()
    assert (stored.reason, stored.authorised_by) == ("wrong size", "Li Na (manager)")


def test_post_return_without_receipt_is_bounded_at_ten_million(client):
    shop = make_shop()
    line = {"sku": shop.skus[0].code, "quantity": 10000, "amount": "5000000.00"}
    body = return_body(shop, authorised_by="Li Na", lines=[line, {**line, "amount": "5000000.01"}])

    response = post(client, "/api/v1/pos/returns", body, shop.token)

    assert response.status_code == 422, response.content
    assert "at most 10000000.00" in str(response.json()["error"]["details"])
    assert not TillReturn.objects.exists()
    assert level_of(shop.store, shop.skus[0]).on_hand == 10


@pytest.mark.parametrize("occurred_at", ["9999-12-31T23:59:59-08:00", "2099-01-01T00:00:00Z"])
def test_post_return_refuses_a_time_no_till_can_have(client, occurred_at):
    shop = make_shop()
    line = {"sku": shop.skus[0].code, "quantity": 1, "amount": "1.00"}
    body = {**return_body(shop, authorised_by="Li Na", lines=[line]), "occurred_at": occurred_at}

    response = post(client, "/api/v1/pos/returns", body, shop.token)

    assert response.status_code == 422, response.content
    assert response.json()["error"]["details"]["errors"][0]["loc"][-1] == "occurred_at"
    assert not TillReturn.objects.exists()
    assert level_of(shop.store, shop.skus[0]).on_hand == 10


def test_post_return_without_receipt_names_the_unknown_phone(client):
    shop = make_shop()
    line = {"sku": shop.skus[0].code, "quantity": 1, "amount": "1.00"}
    body = return_body(
        shop, authorised_by="Li Na", lines=[line], member={"phone": "+8613912345678"}
    )

    response = post(client, "/api/v1/pos/returns", body, shop.token)

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("unknown_member", "No member has this phone.")
    assert not TillReturn.objects.exists()


def test_post_return_replays_a_retry_written_another_way(client):
    shop = make_shop()
    member = make_member()
    number = _sold(client, shop, member)
    body = return_body(
        shop,
        receipt_number=number,
        lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": "40.00", "line_no": 1}],
    )
    body["occurred_at"] = "2026-11-27T18:30:00+08:00"
    first = post(client, "/api/v1/pos/returns", body, shop.token)
    before = _state(shop, member)
    retry = {
        **body,
        "occurred_at": "2026-11-27T10:30:00Z",
        "lines": [{**body["lines"][0], "amount": 40}],
    }

    again = post(client, "/api/v1/pos/returns", retry, shop.token)

    assert first.status_code == 201, first.content
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert _state(shop, member) == before


def test_post_return_replays_a_return_recorded_before_its_fingerprint_was_normalised(client):
    shop = make_shop()
    number = _sold(client, shop, make_member())
    body = return_body(
        shop,
        receipt_number=number,
        reason="wrong size",
        lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": 40}],
    )
    assert post(client, "/api/v1/pos/returns", body, shop.token).status_code == 201
    # As the code before stored it: the digest of the body as written.
    TillReturn.objects.update(payload_hash=return_of(body).payload_hash_v2())

    again = post(client, "/api/v1/pos/returns", body, shop.token)
    changed = post(client, "/api/v1/pos/returns", {**body, "reason": "other"}, shop.token)

    assert again.status_code == 200, again.content
    assert changed.status_code == 409
    assert TillReturn.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"), [("return_number", "  "), ("receipt_number", " "), ("store", " ")]
)
def test_post_return_refuses_a_number_of_only_spaces(client, field, value):
    shop = make_shop()
    number = _sold(client, shop, make_member())
    body = return_body(
        shop,
        receipt_number=number,
        authorised_by="Li Na",
        lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": "40.00"}],
    )

    response = post(client, "/api/v1/pos/returns", {**body, field: value}, shop.token)

    assert response.status_code == 422, response.content
    (error,) = response.json()["error"]["details"]["errors"]
    assert error["loc"][-1] == field
    assert "only spaces" in error["msg"]
    assert not TillReturn.objects.exists()


@pytest.mark.parametrize(
    ("occurred_at", "status"),
    [
        ("2026-11-27T10:29:59Z", 422),  # the receipt is at 10:30:00Z
        ("2026-11-27T18:29:59+08:00", 422),  # the same, at the till's offset
        ("2026-11-27T18:30:00+08:00", 201),  # the receipt's own instant
        ("2026-11-27T10:31:00Z", 201),
    ],
)
def test_post_return_refuses_a_return_dated_before_its_receipt(client, occurred_at, status):
    shop = make_shop()
    member = make_member()
    number = _sold(client, shop, member)  # at 2026-11-27T10:30:00Z
    body = return_body(
        shop,
        receipt_number=number,
        lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": "40.00"}],
    )
    before = _state(shop, member)

    response = post(client, "/api/v1/pos/returns", {**body, "occurred_at": occurred_at}, shop.token)

    assert response.status_code == status, response.content
    if status == 422:
        error = response.json()["error"]
        assert error["code"] == "return_before_sale"
        assert error["details"]["receipt_occurred_at"] == "2026-11-27T10:30:00Z"
        assert "before its receipt" in error["message"]
        assert _state(shop, member) == before


def _receipt_return(shop, number, member=None):
    body = return_body(
        shop,
        receipt_number=number,
        lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": "40.00"}],
    )
    if member is not None:
        body["member"] = member
    return body


@pytest.mark.parametrize("named", ["card", "phone", "phone written otherwise", "none"])
def test_post_return_against_a_receipt_takes_its_member_named_or_not(client, named):
    shop = make_shop()
    member = make_member(phone="+8613800138055")
    number = _sold(client, shop, member)
    member_ref = {
        "card": {"card": member.card_number},
        "phone": {"phone": member.phone},
        "phone written otherwise": {"phone": "138 0013 8055"},
        "none": None,
    }[named]

    response = post(
        client, "/api/v1/pos/returns", _receipt_return(shop, number, member_ref), shop.token
    )

    assert response.status_code == 201, response.content
    assert response.json()["member_card"] == member.card_number
    assert response.json()["points_reversed"] == 40


@pytest.mark.parametrize("receipt_member", [True, False])
@pytest.mark.parametrize("named", ["other card", "new phone"])
def test_post_return_refuses_a_member_who_is_not_the_receipts(client, receipt_member, named):
    shop = make_shop()
    buyer, other = make_member(), make_member()
    if receipt_member:
        number = _sold(client, shop, buyer)
    else:
        body = receipt_body(shop, lines=[(shop.skus[0], 2, "40.00")])
        assert post(client, "/api/v1/pos/sales", body, shop.token).status_code == 201
        number = body["receipt_number"]
    member_ref = (
        {"card": other.card_number} if named == "other card" else {"phone": "+8613912340000"}
    )
    before = _state(shop, other), _state(shop, buyer)

    response = post(
        client, "/api/v1/pos/returns", _receipt_return(shop, number, member_ref), shop.token
    )

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "return_member_mismatch"
    assert error["details"] == {"receipt_number": number}
    wanted = "is not the member of receipt" if receipt_member else "recorded without a member"
    assert wanted in error["message"]
    assert (_state(shop, other), _state(shop, buyer)) == before


def _return_of_one(shop, number, **more):
    return return_body(
        shop,
        receipt_number=number,
        lines=[{"sku": shop.skus[0].code, "quantity": 1, "amount": "40.00", "line_no": 1}],
        **more,
    )


def _sold_by(client, shop, payments):
    body = receipt_body(shop, lines=[(shop.skus[0], 2, "40.00")], payments=payments)
    assert post(client, "/api/v1/pos/sales", body, shop.token).status_code == 201
    return body["receipt_number"]


@pytest.mark.parametrize(
    ("payments", "said", "recorded"),
    [
        ([{"method": "微信", "amount": "80.00"}], None, "wechat"),  # the receipt's one way
        ([{"method": "wechat", "amount": "80.00"}], "现金", "cash"),  # the till's word wins
        (  # paid two ways, the till silent: not known
            [{"method": "wechat", "amount": "50.00"}, {"method": "cash", "amount": "30.00"}],
            None,
            None,
        ),
    ],
)
def test_a_return_records_how_the_refund_was_paid_out(client, payments, said, recorded):
    shop = make_shop()
    body = _return_of_one(shop, _sold_by(client, shop, payments))
    if said is not None:
        body["refund_method"] = said

    reply = post(client, "/api/v1/pos/returns", body, shop.token)

    assert reply.status_code == 201, reply.content
    assert reply.json()["refund_method"] == recorded
    assert TillReturn.objects.get().refund_method == (recorded or "")


@pytest.mark.parametrize("method", ["points", "积分", "a voucher book", "  "])
def test_a_refund_paid_in_points_or_an_unknown_way_is_422(client, method):
    shop = make_shop()
    body = _return_of_one(shop, _sold_by(client, shop, [{"method": "cash", "amount": "80.00"}]))
    body["refund_method"] = method

    reply = post(client, "/api/v1/pos/returns", body, shop.token)

    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "validation_failed"
    assert not TillReturn.objects.exists()


def test_a_replay_must_say_the_same_refund_method(client):
    shop = make_shop()
    body = _return_of_one(shop, _sold_by(client, shop, [{"method": "cash", "amount": "80.00"}]))
    body["refund_method"] = "cash"
    assert post(client, "/api/v1/pos/returns", body, shop.token).status_code == 201

    same = post(client, "/api/v1/pos/returns", {**body, "refund_method": "现金"}, shop.token)
    other = post(client, "/api/v1/pos/returns", {**body, "refund_method": "alipay"}, shop.token)

    assert same.status_code == 200
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "return_conflict"


def test_a_return_recorded_before_refund_methods_still_replays(client):
    """Its stored fingerprint has no refund method: the same body, which says none, is
    the same return, though the method was filled in from the receipt."""
    shop = make_shop()
    body = _return_of_one(shop, _sold_by(client, shop, [{"method": "cash", "amount": "80.00"}]))
    assert post(client, "/api/v1/pos/returns", body, shop.token).status_code == 201
    stored = TillReturn.objects.get()
    assert stored.payload_hash == return_of(body).payload_hash()
    TillReturn.objects.filter(pk=stored.pk).update(refund_method="")  # as before the field

    again = post(client, "/api/v1/pos/returns", body, shop.token)

    assert again.status_code == 200
    assert again.json()["refund_method"] is None
