"""The pick-up counter for a store's own till or app (mounted at ``/api/v1/pickups``).

What the back office's pick-up desk does, for a store system: the shelf (every pick-up
waiting at the store, the nearest deadline first), the order behind a code the shopper
shows, and handing it over (the store's request shipped with carrier ``pickup``, the holds
become sales, the order ``picked_up``).

Auth: an API key (``X-Api-Key``) with scope ``store``, bound to its store (``bound_to``):
it acts only there; a key bound to nothing or to a warehouse is 403. The hand-over needs an
``Idempotency-Key`` (``core.idempotency``): a till that retries gets the first answer back
(``Idempotent-Replayed: true``) and nothing is handed over twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from omnimall.core.api.auth import ApiKeyAuth, actor_from, api_key_of
from omnimall.core.api.errors import ERRORS
from omnimall.core.api.openapi import idempotency_key_header
from omnimall.core.api.replays import respond_once
from omnimall.core.errors import PermissionDeniedError
from omnimall.inventory.models import LocationKind
from omnimall.inventory.selectors.fulfilment import get_location_ref
from omnimall.orders import domain, selectors
from omnimall.orders.errors import PickupCodeError
from omnimall.orders.schemas import OrderCollectorOut
from omnimall.orders.services import pickup

router = Router(tags=["pick-up counter"])
auth = ApiKeyAuth("store")


def _store_id(request: HttpRequest) -> int:
    """The store the key is bound to (403 for any other key)."""
    bound = api_key_of(request).bound_to.strip()
    ref = get_location_ref(code=bound) if bound else None
    if ref is None or ref.kind != LocationKind.STORE:
        raise PermissionDeniedError("This API key is not bound to a store.", bound_to=bound or None)
    return ref.id


class ShelfRowOut(Schema):
    number: str
    contact_name: str
    phone: str
    collector_name: str = Field(description='Someone the shopper sends instead; "" if none')
    ready_at: datetime | None
    collect_by: datetime | None = Field(description="Cancelled and refunded if not collected")
    kept_longer: bool = Field(description="The shopper asked for more days")
    items: int


class CounterLineOut(Schema):
    sku: str
    product: str
    variant: str
    quantity: int


class CounterOrderOut(Schema):
    number: str
    state: str = Field(description="ready_for_pickup once put aside; paid or allocated before")
    ready: bool = Field(description="Put aside: it may be handed over")
    contact_name: str
    phone: str
    collector: OrderCollectorOut | None
    ready_at: datetime | None
    collect_by: datetime | None
    lines: list[CounterLineOut]


class HandedOverOut(Schema):
    number: str
    state: str


@router.get("", auth=auth, response={200: list[ShelfRowOut], **ERRORS}, summary="The shelf")
def list_shelf(request: HttpRequest) -> list[dict[str, Any]]:
    """Every pick-up waiting at the key's store, the nearest deadline first (at most 200)."""
    rows = selectors.list_waiting_pickups(store_ids=[_store_id(request)])
    return [
        {
            "number": row.number,
            "contact_name": row.contact_name,
            "phone": row.phone,
            "collector_name": row.collector_name,
            "ready_at": row.ready_at,
            "collect_by": row.collect_by,
            "kept_longer": row.kept_longer,
            "items": row.items,
        }
        for row in rows
    ]


@router.get(
    "/{code}",
    auth=auth,
    response={200: CounterOrderOut, **ERRORS},
    summary="The order behind a code",
)
def get_pickup(request: HttpRequest, code: str) -> dict[str, Any]:
    """The order awaiting pick-up at the key's store under the code the shopper shows (404
    ``unknown_pickup_code`` otherwise): its lines to check, who comes for it, its deadline."""
    found = selectors.find_pickup(store_ids=[_store_id(request)], code=code)
    if found is None:
        raise PickupCodeError(code=code[:8])
    return {
        "number": found.number,
        "state": found.state,
        "ready": found.state == domain.READY_FOR_PICKUP,
        "contact_name": found.contact_name,
        "phone": found.phone,
        "collector": domain.collector_of(found.collector_name, found.collector_phone),
        "ready_at": found.ready_at,
        "collect_by": found.collect_by,
        "lines": [
            {
                "sku": line.sku_code,
                "product": line.product_name,
                "variant": line.variant,
                "quantity": line.quantity,
            }
            for line in found.lines
        ],
    }


@router.post(
    "/{code}/hand-over",
    auth=auth,
    openapi_extra=idempotency_key_header(
        required=True, description="A unique id per hand-over, sent again on a retry."
    ),
    response={200: HandedOverOut, **ERRORS},
    summary="Hand the order over at the counter",
)
def hand_over(request: HttpRequest, response: HttpResponse, code: str) -> Status[dict[str, Any]]:
    """The order put aside under the code leaves the counter: ``picked_up``. 404
    ``unknown_pickup_code`` for a code with nothing put aside at the key's store; 409
    ``nothing_put_aside`` when its store refused it. A retry with the same
    ``Idempotency-Key`` gets the first answer."""
    store_id = _store_id(request)

    def perform() -> tuple[int, dict[str, Any]]:
        order = pickup.hand_over(store_id=store_id, code=code, actor=actor_from(request))
        return 200, {"number": order.number, "state": order.state}

    return respond_once(
        response,
        scope=f"api_key:{api_key_of(request).pk}",
        key=request.headers.get("Idempotency-Key"),
        payload={"endpoint": "pickups.hand_over", "code": code},
        perform=perform,
    )
