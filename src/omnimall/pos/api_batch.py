"""``POST /api/v1/pos/sales/batch``: a store's receipts uploaded together (e.g. at close).

Auth as the live POS API: an API key with scope ``pos``, bound to one store. Every
receipt must name that store — one naming another store refuses the whole request with
403 ``forbidden_store`` before anything is written.

Each receipt is the body of ``POST /api/v1/pos/sales`` and gets exactly the outcome it
would get there (``pos.services.batch``): one result per receipt, in order —
``created``, ``replayed`` (already recorded with the same contents), ``flagged``
(recorded, needs staff: ``code`` lists the flags) or ``rejected`` (``code`` and
``message`` say why: an invalid receipt — or an entry that is not a JSON object —,
``unknown_sku``, ``receipt_conflict``, …). One bad receipt does not stop the others; the
answer is 200 whatever the mix.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from omnimall.core.api.auth import ApiKeyAuth, actor_from, api_key_of
from omnimall.pos.api import ERRORS
from omnimall.pos.errors import ForbiddenStoreError
from omnimall.pos.models import ReceiptSource
from omnimall.pos.services.batch import STATUSES, ingest_receipts
from omnimall.pos.services.reading import parse_receipt

router = Router(tags=["pos"])
MAX_RECEIPTS = 1000


class BatchIn(Schema):
    # Any JSON value: each entry is validated on its own (``parse_receipt``), so one that
    # is not even an object is a rejected result in its place, not a 422 for the batch.
    receipts: list[Any] = Field(
        ...,
        min_length=1,
        max_length=MAX_RECEIPTS,
        description=(
            "Up to 1000 receipts, each the body of POST /api/v1/pos/sales (ReceiptIn); "
            "each is validated on its own, so one invalid receipt (or an entry that is "
            "not a JSON object) is rejected alone."
        ),
    )


class BatchResultOut(Schema):
    receipt_number: str
    status: str = Field(description=" | ".join(STATUSES))
    code: str | None = None
    message: str | None = None


class BatchOut(Schema):
    results: list[BatchResultOut]
    counts: dict[str, int]


def _check_stores(bound: str, receipts: list[Any]) -> None:
    """403 when the key has no store or any receipt names another store."""
    if not bound:
        raise ForbiddenStoreError("This POS key is not bound to a store.")
    others = sorted(
        {
            r["store"]
            for r in receipts
            if isinstance(r, dict) and isinstance(r.get("store"), str) and r["store"] != bound
        }
    )
    if others:
        raise ForbiddenStoreError(stores=others[:20], bound_to=bound)


@router.post("/sales/batch", response={200: BatchOut, **ERRORS}, auth=ApiKeyAuth("pos"))
def post_sales_batch(request: HttpRequest, payload: BatchIn) -> dict[str, Any]:
    """Record many till receipts of the key's store; one result per receipt."""
    _check_stores(api_key_of(request).bound_to.strip(), payload.receipts)
    report = ingest_receipts(
        sales=[parse_receipt(raw, line=index) for index, raw in enumerate(payload.receipts, 1)],
        source=ReceiptSource.BATCH,
        actor=actor_from(request),
    )
    return {"results": [r.as_dict() for r in report.results], "counts": report.counts()}
