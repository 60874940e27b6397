"""The partner API (``/api/v1/partners/``): signed requests only (``PartnerSignatureAuth``).

The signature is checked on the raw body *before* Ninja parses it as JSON: Ninja runs
authentication first, and ``PartnerSignatureAuth`` refuses with 401 (JSON error codes
``signature_invalid``, ``timestamp_out_of_window``, ``nonce_reused``) without
touching anything. See docs/partners.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.security import APIKeyHeader
from pydantic import StrictInt, StrictStr, model_validator

from omnimall.core.api.errors import ERRORS
from omnimall.core.api.schemas import StrictIn
from omnimall.members.models import Partner

from . import outbound, selectors, services, signing, transfers
from .errors import PartnerAuthError, TransferNotFoundError

router = Router(tags=["partners"])

TransactionId = Annotated[
    StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$")
]


class PartnerSignatureAuth(APIKeyHeader):
    """``X-Partner-Key`` + ``X-Timestamp`` + ``X-Nonce`` + ``X-Signature`` (HMAC-SHA256)."""

    param_name = signing.KEY_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Partner:
        query = request.META.get("QUERY_STRING", "")
        signed = services.SignedRequest(
            method=request.method or "",
            path=f"{request.path}?{query}" if query else request.path,
            key_id=key or "",
            timestamp=request.headers.get(signing.TIMESTAMP_HEADER, ""),
            nonce=request.headers.get(signing.NONCE_HEADER, ""),
            signature=request.headers.get(signing.SIGNATURE_HEADER, ""),
            body=request.body,
        )
        return services.authenticate_request(signed)


def partner_of(request: HttpRequest) -> Partner:
    partner: Any = getattr(request, "auth", None)
    if not isinstance(partner, Partner):  # pragma: no cover - the route's auth sets it
        raise PartnerAuthError()
    return partner


class TransferMemberIn(StrictIn):
    phone: Annotated[StrictStr, Field(max_length=32)] = ""
    card: Annotated[StrictStr, Field(max_length=20)] = ""

    @model_validator(mode="after")
    def _one_given(self) -> TransferMemberIn:
        if bool(self.phone) == bool(self.card):
            raise ValueError("give the member's phone or card (one of them)")
        return self


class TransferIn(StrictIn):
    transaction_id: TransactionId = Field(description="The partner's own id (idempotency key)")
    member: TransferMemberIn
    partner_account: Annotated[StrictStr, Field(max_length=64)] = Field(
        "", description="The member's account number in your programme (optional)"
    )
    partner_points: Annotated[StrictInt, Field(ge=1, le=10**9)]


class ConfirmIn(StrictIn):
    status: Literal["completed", "failed"]
    partner_reference: Annotated[StrictStr, Field(max_length=64)] = ""


class TransferMemberOut(Schema):
    card_number: str


class TransferOut(Schema):
    transaction_id: str
    direction: str
    state: str
    member: TransferMemberOut
    partner_account: str
    partner_points: int
    brand_points: int
    rate: str
    partner_reference: str
    failure: str
    created_at: str


AUTH = PartnerSignatureAuth()


@router.post(
    "/points-transfers",
    response={200: TransferOut, 201: TransferOut, **ERRORS},
    auth=AUTH,
    url_name="partner_transfers",
    summary="Convert partner points into brand points",
)
def create_transfer(request: HttpRequest, payload: TransferIn) -> Status:
    """201 the first time; 200 with the same body when the same request is repeated;
    409 ``transfer_conflict`` for another request under the same ``transaction_id``."""
    partner = partner_of(request)
    outcome = transfers.receive_transfer(
        partner=partner,
        transaction_id=payload.transaction_id,
        phone=payload.member.phone,
        card=payload.member.card,
        partner_points=payload.partner_points,
        partner_account=payload.partner_account,
        actor=services.partner_actor(partner),
    )
    return Status(201 if outcome.created else 200, selectors.transfer_view(outcome.transfer))


@router.get(
    "/points-transfers/{transaction_id}",
    response={200: TransferOut, **ERRORS},
    auth=AUTH,
    summary="A transfer's state",
)
def get_transfer(
    request: HttpRequest, transaction_id: str, direction: Literal["in", "out"] = "in"
) -> dict[str, Any]:
    """Inbound by default; ``?direction=out`` for a transfer we sent (sign the query)."""
    partner = partner_of(request)
    transfer = selectors.find_transfer(
        partner_id=partner.pk, direction=direction, transaction_id=transaction_id
    )
    if transfer is None:
        raise TransferNotFoundError(transaction_id=transaction_id)
    return selectors.transfer_view(transfer)


@router.post(
    "/points-transfers/{transaction_id}/confirm",
    response={200: TransferOut, **ERRORS},
    auth=AUTH,
    url_name="partner_confirm_transfer",
    summary="Confirm or refuse an outbound transfer",
)
def confirm_transfer(
    request: HttpRequest, transaction_id: str, payload: ConfirmIn
) -> dict[str, Any]:
    """``completed`` → the member's held points are spent; ``failed`` → given back.
    Repeating the same answer is harmless; the other answer afterwards → 409."""
    partner = partner_of(request)
    outcome = outbound.confirm_transfer(
        partner=partner,
        transaction_id=transaction_id,
        status=payload.status,
        partner_reference=payload.partner_reference,
        actor=services.partner_actor(partner),
    )
    return selectors.transfer_view(outcome.transfer)
