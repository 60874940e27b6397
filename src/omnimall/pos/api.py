"""The stores' POS API (live): member lookup, sales, returns and points holds.

Auth: an API key (header ``X-Api-Key``) with scope ``pos``, bound to one store (its
``bound_to`` = the store's location code). A key without a store, or a request naming
another store (a receipt, a return, a hold taken at another store), is refused with 403
``forbidden_store``.

Sales and returns are idempotent by (store, number): the first post answers 201, a
retry with the same body answers 200 with the same body, the same number with another
body answers 409 (``receipt_conflict`` / ``return_conflict``). The rules of applying a
receipt are in ``pos.services.sales`` (and ``returns``, ``holds``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictInt

from omnimall.core.api.auth import ApiKeyAuth, actor_from, api_key_of
from omnimall.core.api.errors import ERRORS
from omnimall.members.selectors.members import find_member, mask_phone
from omnimall.pos import schemas, selectors
from omnimall.pos.errors import (
    ForbiddenStoreError,
    MemberNotFoundError,
    MemberQueryError,
    UnknownStoreError,
)
from omnimall.pos.models import ReceiptSource
from omnimall.pos.services import holds as hold_services
from omnimall.pos.services import returns as return_services
from omnimall.pos.services import sales as sale_services

router = Router(tags=["pos"])
auth = ApiKeyAuth("pos")


def _store(request: HttpRequest, code: str | None = None) -> selectors.StoreRef:
    """The key's store; 403 when the key has none or ``code`` names another store."""
    bound = api_key_of(request).bound_to.strip()
    if not bound:
        raise ForbiddenStoreError("This POS key is not bound to a store.")
    if code is not None and code != bound:
        raise ForbiddenStoreError(store=code, bound_to=bound)
    store = selectors.get_store(code=bound)
    if store is None:
        raise UnknownStoreError(store=bound)
    return store


# --- member lookup ------------------------------------------------------------------------


class MemberQuery(Schema):
    phone: str = ""
    card: str = ""


class TierOut(Schema):
    code: str
    name: str


class MemberOut(Schema):
    card_number: str
    name: str
    phone_masked: str
    tier: TierOut


class PointsOut(Schema):
    available: int
    pending: int
    held: int


class MemberLookupOut(Schema):
    member: MemberOut
    points: PointsOut


@router.get(
    "/members",
    auth=auth,
    response={200: MemberLookupOut, **ERRORS},
    summary="Look a member up by phone or card",
)
def lookup_member(request: HttpRequest, query: Query[MemberQuery]) -> dict[str, Any]:
    """The member with this mobile number (any usual form) or card number, with their
    tier and points. Exactly one of ``phone`` and ``card`` (422 ``member_query``); 404
    ``member_not_found`` when there is none."""
    _store(request)
    phone, card = query.phone.strip(), query.card.strip()
    if bool(phone) == bool(card):
        raise MemberQueryError()
    member = find_member(phone=phone, card=card)
    if member is None:
        raise MemberNotFoundError()
    chinese = (get_language() or "").startswith("zh")
    return {
        "member": {
            "card_number": member.card_number,
            "name": member.name,
            "phone_masked": mask_phone(member.phone),
            "tier": {
                "code": member.tier.code,
                "name": member.tier.name_zh if chinese else member.tier.name_en,
            },
        },
        "points": {
            "available": member.points_available,
            "pending": member.points_pending,
            "held": member.points_held,
        },
    }


# --- sales --------------------------------------------------------------------------------


class FlagOut(Schema):
    code: str
    message: str
    details: dict[str, Any]


class ReceiptLineOut(Schema):
    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal
    points_earned: int


class ReceiptOut(Schema):
    store: str
    receipt_number: str
    occurred_at: datetime
    state: str = Field(description="applied, or flagged (applied, but needs staff)")
    flags: list[FlagOut]
    currency: str
    total: Decimal
    discount_total: Decimal
    points_spent: int
    points_earned: int
    member_card: str | None
    lines: list[ReceiptLineOut]


def _flags(flags: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    return [
        {
            "code": flag.get("code", ""),
            "message": flag.get("message", ""),
            "details": {k: v for k, v in flag.items() if k not in ("code", "message")},
        }
        for flag in flags
    ]


def receipt_out(view: selectors.ReceiptView) -> dict[str, Any]:
    return {
        "store": view.store,
        "receipt_number": view.number,
        "occurred_at": view.occurred_at,
        "state": view.state,
        "flags": _flags(view.flags),
        "currency": view.currency,
        "total": view.total,
        "discount_total": view.discount_total,
        "points_spent": view.points_spent,
        "points_earned": view.points_earned,
        "member_card": view.member_card,
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
                "line_total": line.line_total,
                "points_earned": line.points_earned,
            }
            for line in view.lines
        ],
    }


@router.post(
    "/sales",
    auth=auth,
    response={200: ReceiptOut, 201: ReceiptOut, **ERRORS},
    summary="Record a till receipt",
)
def post_sale(request: HttpRequest, payload: schemas.ReceiptIn) -> Status[dict[str, Any]]:
    """One receipt from the till: stock sold at the store, the member's purchase and
    points (earned at once; points paid spent, or the named hold committed).

    201 the first time; 200 with the same body when the same receipt comes again; 409
    ``receipt_conflict`` when its number was recorded with other contents; 422
    ``unknown_sku`` / ``unknown_member`` / ``invalid_phone`` / ``invalid_points_payment``
    / ``invalid_points`` (nothing recorded). Stock short or points no longer available do
    not refuse the receipt: it is recorded with ``state: flagged`` and ``flags`` for
    staff."""
    store = _store(request, payload.store)
    result = sale_services.record_sale(
        sale=payload.to_domain(),
        store_id=store.id,
        source=ReceiptSource.API,
        actor=actor_from(request),
    )
    body = receipt_out(selectors.get_receipt(receipt_id=result.receipt_id))
    return Status(201 if result.created else 200, body)


# --- returns ------------------------------------------------------------------------------


class ReturnLineOut(Schema):
    line_no: int | None
    sku: str
    quantity: int
    amount: Decimal


class TillReturnOut(Schema):
    store: str
    return_number: str
    occurred_at: datetime
    receipt_number: str | None
    member_card: str | None
    authorised_by: str
    refund_total: Decimal
    refund_method: str | None = Field(
        description="How the refund was paid out (a payment method code); null: not known"
    )
    points_reversed: int
    points_restored: int
    flags: list[FlagOut]
    lines: list[ReturnLineOut]


def return_out(view: selectors.TillReturnView) -> dict[str, Any]:
    return {
        "store": view.store,
        "return_number": view.number,
        "occurred_at": view.occurred_at,
        "receipt_number": view.receipt_number,
        "member_card": view.member_card,
        "authorised_by": view.authorised_by,
        "refund_total": view.refund_total,
        "refund_method": view.refund_method,
        "points_reversed": view.points_reversed,
        "points_restored": view.points_restored,
        "flags": _flags(view.flags),
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "quantity": line.quantity,
                "amount": line.amount,
            }
            for line in view.lines
        ],
    }


@router.post(
    "/returns",
    auth=auth,
    response={200: TillReturnOut, 201: TillReturnOut, **ERRORS},
    summary="Record goods returned at the till",
)
def post_return(request: HttpRequest, payload: schemas.TillReturnIn) -> Status[dict[str, Any]]:
    """Goods brought back: against a receipt of this store (its lines by ``line_no`` or by
    SKU; the points earned on the refunded part are reversed and points paid come back),
    or without one (``authorised_by`` required). The goods go back into the store's stock.

    201 / 200 (a replay, same body) / 409 ``return_conflict``; 422 ``unknown_receipt``,
    ``return_before_sale``, ``return_member_mismatch``, ``invalid_return_line``,
    ``return_exceeds_sale``, ``unknown_sku``."""
    store = _store(request, payload.store)
    result = return_services.record_till_return(
        till_return=payload.to_domain(), store_id=store.id, actor=actor_from(request)
    )
    body = return_out(selectors.get_till_return(return_id=result.return_id))
    return Status(201 if result.created else 200, body)


# --- points holds -------------------------------------------------------------------------


class PointsHoldIn(schemas.StrictIn):
    member: schemas.MemberRefIn
    points: Annotated[StrictInt, Field(ge=1, le=10**9)]
    receipt_number: schemas.ReceiptNumber


class HoldCommitIn(schemas.StrictIn):
    receipt_number: schemas.ReceiptNumber


class PointsHoldOut(Schema):
    hold_id: int
    receipt_number: str
    member_card: str
    points: int
    state: str = Field(description="held, committed, released or expired")
    expires_at: datetime | None


def hold_out(hold: hold_services.TillHold) -> dict[str, Any]:
    return {
        "hold_id": hold.hold_id,
        "receipt_number": hold.receipt_number,
        "member_card": hold.member_card,
        "points": hold.points,
        "state": hold.state,
        "expires_at": hold.expires_at,
    }


@router.post(
    "/points-holds",
    auth=auth,
    response={200: PointsHoldOut, 201: PointsHoldOut, **ERRORS},
    summary="Hold a member's points for a receipt",
)
def post_points_hold(request: HttpRequest, payload: PointsHoldIn) -> Status[dict[str, Any]]:
    """Set the member's points aside while the shopper pays; they lapse after
    ``POINTS_HOLD_MINUTES`` unless committed (by the receipt naming ``hold_id`` in its
    points payment, or ``/commit``). 201; 200 when the same receipt asks again (the
    same hold); 409 ``insufficient_points``; 422 ``unknown_member``."""
    store = _store(request)
    hold = hold_services.place_till_hold(
        store_code=store.code,
        receipt_number=payload.receipt_number,
        phone=payload.member.phone,
        card=payload.member.card,
        points=payload.points,
        actor=actor_from(request),
    )
    return Status(201 if hold.created else 200, hold_out(hold))


@router.post(
    "/points-holds/{hold_id}/commit",
    auth=auth,
    response={200: PointsHoldOut, **ERRORS},
    summary="Spend held points",
)
def commit_points_hold(request: HttpRequest, hold_id: int, payload: HoldCommitIn) -> dict[str, Any]:
    """Spend the held points for the receipt they were held for (409
    ``hold_receipt_mismatch`` for another receipt, ``points_hold_not_held`` when the hold
    lapsed or was cancelled; a repeated commit answers the committed hold)."""
    store = _store(request)
    hold = hold_services.commit_till_hold(
        hold_id=hold_id,
        store_code=store.code,
        receipt_number=payload.receipt_number,
        actor=actor_from(request),
    )
    return hold_out(hold)


@router.post(
    "/points-holds/{hold_id}/cancel",
    auth=auth,
    response={200: PointsHoldOut, **ERRORS},
    summary="Give held points back",
)
def cancel_points_hold(request: HttpRequest, hold_id: int) -> dict[str, Any]:
    """The shopper did not pay with points after all: the held points go back (a cancel
    of a cancelled hold answers it again; a committed hold is 409)."""
    store = _store(request)
    hold = hold_services.cancel_till_hold(
        hold_id=hold_id, store_code=store.code, actor=actor_from(request)
    )
    return hold_out(hold)
