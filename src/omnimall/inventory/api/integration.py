"""Integration API for warehouses (WMS) and stores: stock reports, receipts, fulfilment.

Auth: an API key (header ``X-Api-Key``) with scope ``wms`` or ``store``. Where a key may act
is ``LocationAccess.for_key``: a WMS key acts for every warehouse, or only for the one in
its ``bound_to``; a store key only for the store in its ``bound_to``. Anything else is 403.

Every POST needs an ``Idempotency-Key`` header and runs through ``core.idempotency.run_once``
(scoped to the API key): a retry with the same key and body returns the first response
(same status and body, plus ``Idempotent-Replayed: true``) and applies nothing again; the
same key with another body is 409 ``idempotency_key_reused``.

Errors have the one body of ``core.api.errors``; a rejected batch is 422 ``rows_rejected``
with ``details.rows``, one entry per problem: ``{"row", "location", "sku", "code",
"message"}`` (``row`` = the index in ``lines``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status

from omnimall.core.api.auth import ApiKeyAuth, actor_from, api_key_of
from omnimall.core.api.errors import ERRORS
from omnimall.core.api.openapi import idempotency_key_header
from omnimall.core.api.replays import respond_once
from omnimall.core.errors import PermissionDeniedError
from omnimall.inventory.errors import StockLocationNotFoundError
from omnimall.inventory.schemas import (
    FulfilmentListParams,
    FulfilmentPageOut,
    FulfilmentRequestOut,
    GoodsReceiptIn,
    RejectIn,
    ShipmentIn,
    ShipmentOut,
    StockBatchOut,
    StockReportIn,
    batch_out,
    fulfilment_page_out,
    fulfilment_request_out,
)
from omnimall.inventory.selectors import fulfilment as selectors
from omnimall.inventory.services import fulfilment as fulfilment_services
from omnimall.inventory.services import reports as report_services
from omnimall.inventory.services.stock_rows import RowError, RowsRejectedError

router = Router(tags=["inventory integration"])
auth = ApiKeyAuth("wms", "store")


def _idempotency_doc() -> dict[str, Any]:
    """Every POST needs the header; ``_once`` reads it (see core.api.openapi)."""
    return idempotency_key_header(
        required=True, description="A unique id per request (e.g. a UUID), sent again on a retry."
    )


Perform = Callable[[], tuple[int, dict[str, Any]]]


def _access(request: HttpRequest) -> selectors.LocationAccess:
    key = api_key_of(request)
    return selectors.LocationAccess.for_key(scopes=key.scopes, bound_to=key.bound_to)


def _require_access(request: HttpRequest, *, code: str, kind: str) -> None:
    if not _access(request).allows(code=code, kind=kind):
        raise PermissionDeniedError(
            "This API key may not act for this location.",
            location=code,
            bound_to=api_key_of(request).bound_to or None,
        )


def _location(request: HttpRequest, code: str) -> selectors.LocationRef:
    """The location a POST names, if the key may act for it (422 when it does not exist)."""
    ref = selectors.get_location_ref(code=code)
    if ref is None:
        unknown = RowError(
            row=None, location=code, sku="", code="unknown_location", message="no such location"
        )
        raise RowsRejectedError([unknown])
    _require_access(request, code=ref.code, kind=ref.kind)
    return ref


def _request(request: HttpRequest, number: str) -> selectors.FulfilmentRequestView:
    view = selectors.get_fulfilment_request(number=number)
    if view is None:
        raise fulfilment_services.FulfilmentRequestNotFoundError(number=number[:24])
    _require_access(request, code=view.location, kind=view.location_kind)
    return view


def _once(
    request: HttpRequest,
    response: HttpResponse,
    *,
    endpoint: str,
    payload: Schema | None,
    perform: Perform,
) -> Status[dict[str, Any]]:
    return respond_once(
        response,
        scope=f"api_key:{api_key_of(request).pk}",
        key=request.headers.get("Idempotency-Key"),
        payload={"endpoint": endpoint, "body": payload.model_dump(mode="json") if payload else {}},
        perform=perform,
    )


@router.post(
    "/stock-reports",
    auth=auth,
    openapi_extra=_idempotency_doc(),
    response={201: StockBatchOut, **ERRORS},
    summary="Report absolute stock counts",
)
def post_stock_report(
    request: HttpRequest,
    response: HttpResponse,
    payload: StockReportIn,
) -> Status[dict[str, Any]]:
    """Counted units per SKU at one location (a WMS snapshot or a store's count).

    Each line sets the SKU's ``on_hand`` there: a count-correction movement for the
    difference, nothing for an unchanged line. Every line is validated first; any bad line
    refuses the report (422 ``rows_rejected``, ``details.rows``) and nothing is applied.
    """
    location = _location(request, payload.location)

    def perform() -> tuple[int, dict[str, Any]]:
        result = report_services.apply_stock_report(
            location=location.code,
            lines=[(line.sku, line.count) for line in payload.lines],
            actor=actor_from(request),
            reference=payload.reference,
            counted_at=payload.counted_at,
        )
        return 201, batch_out(result, location=location.code, reference=payload.reference)

    return _once(
        request,
        response,
        endpoint="stock-reports",
        payload=payload,
        perform=perform,
    )


@router.post(
    "/receipts",
    auth=auth,
    openapi_extra=_idempotency_doc(),
    response={201: StockBatchOut, **ERRORS},
    summary="Record goods received",
)
def post_receipt(
    request: HttpRequest,
    response: HttpResponse,
    payload: GoodsReceiptIn,
) -> Status[dict[str, Any]]:
    """Goods received at one location against an ASN or PO: receipt movements, all lines
    or none (422 ``rows_rejected`` lists every bad line)."""
    location = _location(request, payload.location)

    def perform() -> tuple[int, dict[str, Any]]:
        result = report_services.record_receipt(
            location=location.code,
            reference=payload.reference,
            lines=[(line.sku, line.quantity) for line in payload.lines],
            actor=actor_from(request),
        )
        return 201, batch_out(result, location=location.code, reference=payload.reference)

    return _once(
        request,
        response,
        endpoint="receipts",
        payload=payload,
        perform=perform,
    )


@router.get(
    "/fulfilment-requests",
    auth=auth,
    response={200: FulfilmentPageOut, **ERRORS},
    summary="List fulfilment requests",
)
def list_fulfilment_requests(
    request: HttpRequest, params: Query[FulfilmentListParams]
) -> dict[str, Any]:
    """Requests for the locations this key may act for, oldest first, with their lines.

    Page with ``after`` = the previous page's ``next_after`` (None on the last page).
    """
    if params.location:
        ref = selectors.get_location_ref(code=params.location)
        if ref is None:
            raise StockLocationNotFoundError(location=params.location)
        _require_access(request, code=ref.code, kind=ref.kind)
    page = selectors.list_fulfilment_requests(
        access=_access(request),
        location_code=params.location,
        state=params.state,
        after_id=params.after,
        limit=params.limit,
    )
    return fulfilment_page_out(page)


@router.post(
    "/fulfilment-requests/{number}/accept",
    auth=auth,
    openapi_extra=_idempotency_doc(),
    response={200: FulfilmentRequestOut, **ERRORS},
    summary="Accept a fulfilment request",
)
def accept_fulfilment_request(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
) -> Status[dict[str, Any]]:
    """The location takes the request on (``open`` → ``accepted``); 409 from any other state."""
    view = _request(request, number)

    def perform() -> tuple[int, dict[str, Any]]:
        fulfilment_services.accept_fulfilment_request(request_id=view.id, actor=actor_from(request))
        return 200, _request_body(view.id)

    return _once(
        request,
        response,
        endpoint=f"fulfilment-requests/{view.number}/accept",
        payload=None,
        perform=perform,
    )


@router.post(
    "/fulfilment-requests/{number}/reject",
    auth=auth,
    openapi_extra=_idempotency_doc(),
    response={200: FulfilmentRequestOut, **ERRORS},
    summary="Reject a fulfilment request",
)
def reject_fulfilment_request(
    request: HttpRequest,
    response: HttpResponse,
    number: str,
    payload: RejectIn,
) -> Status[dict[str, Any]]:
    """The location cannot fulfil the request (a reason is required): its holds are
    released so the shop can allocate elsewhere. 409 once a line has shipped."""
    view = _request(request, number)

    def perform() -> tuple[int, dict[str, Any]]:
        fulfilment_services.reject_fulfilment_request(
            request_id=view.id, reason=payload.reason, actor=actor_from(request)
        )
        return 200, _request_body(view.id)

    return _once(
        request,
        response,
        endpoint=f"fulfilment-requests/{view.number}/reject",
        payload=payload,
        perform=perform,
    )


@router.post(
    "/shipments",
    auth=auth,
    openapi_extra=_idempotency_doc(),
    response={201: ShipmentOut, **ERRORS},
    summary="Confirm a shipment",
)
def post_shipment(
    request: HttpRequest,
    response: HttpResponse,
    payload: ShipmentIn,
) -> Status[dict[str, Any]]:
    """Lines of a fulfilment request left with a carrier (default: every line not yet
    shipped). Their holds become sales; the request is ``shipped`` once every line is."""
    view = _request(request, payload.request)

    def perform() -> tuple[int, dict[str, Any]]:
        shipment = fulfilment_services.record_shipment(
            request_id=view.id,
            carrier=payload.carrier,
            tracking_number=payload.tracking_number,
            line_ids=payload.lines,
            shipped_at=payload.shipped_at,
            actor=actor_from(request),
        )
        after = _request_body(view.id)
        body = ShipmentOut(
            id=shipment.pk,
            request=FulfilmentRequestOut(**after),
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            shipped_at=shipment.shipped_at,
            lines=[line["id"] for line in after["lines"] if line["shipment_id"] == shipment.pk],
        )
        return 201, body.model_dump(mode="json")

    return _once(
        request,
        response,
        endpoint="shipments",
        payload=payload,
        perform=perform,
    )


def _request_body(request_id: int) -> dict[str, Any]:
    view = selectors.get_fulfilment_request(request_id=request_id)
    if view is None:  # the service just changed it, inside this transaction
        raise fulfilment_services.FulfilmentRequestNotFoundError(request_id=request_id)
    return fulfilment_request_out(view)
