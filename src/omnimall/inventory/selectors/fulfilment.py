"""Reads for the WMS/store integration: locations by code, who may act where, fulfilment
requests with their lines. They return dataclasses, never querysets."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Min, Prefetch, Q

from omnimall.inventory.models import (
    FulfilmentLine,
    FulfilmentRequest,
    FulfilmentState,
    LocationKind,
    StockLocation,
)

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class LocationRef:
    id: int
    code: str
    kind: str
    is_active: bool


@dataclass(frozen=True, slots=True)
class LocationAccess:
    """Where an integration key may act: every warehouse, or some warehouses and stores.

    A WMS key (scope ``wms``) acts for warehouses: every warehouse when it is not bound, the
    one it is bound to otherwise. A store key (scope ``store``) acts for the store it is
    bound to and nothing else; an unbound store key acts nowhere.
    """

    every_warehouse: bool = False
    warehouses: frozenset[str] = frozenset()
    stores: frozenset[str] = frozenset()

    @classmethod
    def for_key(cls, *, scopes: Collection[str], bound_to: str) -> LocationAccess:
        bound = bound_to.strip()
        return cls(
            every_warehouse="wms" in scopes and not bound,
            warehouses=frozenset({bound} if "wms" in scopes and bound else ()),
            stores=frozenset({bound} if "store" in scopes and bound else ()),
        )

    def allows(self, *, code: str, kind: str) -> bool:
        if kind == LocationKind.WAREHOUSE:
            return self.every_warehouse or code in self.warehouses
        if kind == LocationKind.STORE:
            return code in self.stores
        return False

    def as_q(self, prefix: str = "") -> Q:
        """The same rule as a filter on stock locations (``prefix`` e.g. ``"location__"``)."""
        allowed = Q(pk__in=[])
        if self.every_warehouse:
            allowed |= Q(**{f"{prefix}kind": LocationKind.WAREHOUSE})
        if self.warehouses:
            allowed |= Q(
                **{f"{prefix}kind": LocationKind.WAREHOUSE, f"{prefix}code__in": self.warehouses}
            )
        if self.stores:
            allowed |= Q(**{f"{prefix}kind": LocationKind.STORE, f"{prefix}code__in": self.stores})
        return allowed


def get_location_ref(*, code: str) -> LocationRef | None:
    row = StockLocation.objects.filter(code=code).values("pk", "code", "kind", "is_active").first()
    if row is None:
        return None
    return LocationRef(id=row["pk"], code=row["code"], kind=row["kind"], is_active=row["is_active"])


def get_location_refs(*, codes: Collection[str]) -> dict[str, LocationRef]:
    """``{code: LocationRef}`` for the codes that exist, in one query."""
    rows = StockLocation.objects.filter(code__in=list(codes)).values(
        "pk", "code", "kind", "is_active"
    )
    return {
        r["code"]: LocationRef(id=r["pk"], code=r["code"], kind=r["kind"], is_active=r["is_active"])
        for r in rows
    }


@dataclass(frozen=True, slots=True)
class FulfilmentLineView:
    id: int
    sku_id: int
    sku: str  # the SKU code
    quantity: int
    reservation_id: int | None
    shipment_id: int | None

    @property
    def shipped(self) -> bool:
        return self.shipment_id is not None


@dataclass(frozen=True, slots=True)
class FulfilmentRequestView:
    id: int
    number: str
    location: str  # the location code
    location_kind: str
    method: str
    state: str
    reference: str
    ship_to: dict[str, Any]
    note: str  # the shopper's note to the shop
    rejection_reason: str
    created_at: datetime
    updated_at: datetime
    lines: tuple[FulfilmentLineView, ...]


@dataclass(frozen=True, slots=True)
class FulfilmentRequestPage:
    results: tuple[FulfilmentRequestView, ...]
    next_after: int | None  # pass as ``after`` for the next page; None on the last page


def _requests() -> Any:
    lines = FulfilmentLine.objects.select_related("sku").order_by("pk")
    return FulfilmentRequest.objects.select_related("location").prefetch_related(
        Prefetch("lines", queryset=lines)
    )


def _view(request: FulfilmentRequest) -> FulfilmentRequestView:
    return FulfilmentRequestView(
        id=request.pk,
        number=request.number,
        location=request.location.code,
        location_kind=request.location.kind,
        method=request.method,
        state=request.state,
        reference=request.reference,
        ship_to=dict(request.ship_to or {}),
        note=request.note,
        rejection_reason=request.rejection_reason,
        created_at=request.created_at,
        updated_at=request.updated_at,
        lines=tuple(
            FulfilmentLineView(
                id=line.pk,
                sku_id=line.sku_id,
                sku=line.sku.code,
                quantity=line.quantity,
                reservation_id=line.reservation_id,
                shipment_id=line.shipment_id,
            )
            for line in request.lines.all()
        ),
    )


def list_fulfilment_requests(
    *,
    access: LocationAccess,
    location_code: str | None = None,
    state: str | None = None,
    after_id: int = 0,
    limit: int = 50,
) -> FulfilmentRequestPage:
    """Requests at the locations ``access`` allows, oldest first, ``limit`` after ``after_id``.

    Two queries (requests with their location, then the lines with their SKU codes).
    """
    limit = max(1, min(limit, MAX_PAGE))
    rows = _requests().filter(access.as_q("location__"), pk__gt=after_id)
    if location_code:
        rows = rows.filter(location__code=location_code)
    if state:
        rows = rows.filter(state=state)
    page = list(rows.order_by("pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return FulfilmentRequestPage(
        results=tuple(_view(r) for r in page), next_after=page[-1].pk if more else None
    )


def get_fulfilment_request(
    *, number: str | None = None, request_id: int | None = None
) -> FulfilmentRequestView | None:
    """One request by its number or id, with its lines; None when there is none."""
    if number is None and request_id is None:
        return None
    rows = _requests()
    if number is not None:
        rows = rows.filter(number=number)
    if request_id is not None:
        rows = rows.filter(pk=request_id)
    request = rows.first()
    return None if request is None else _view(request)


@dataclass(frozen=True, slots=True)
class FulfilmentBacklog:
    """Requests a location has not shipped or handed over yet (open or accepted)."""

    count: int
    oldest: datetime | None


def fulfilment_backlog(*, location_ids: Collection[int] | None = None) -> FulfilmentBacklog:
    """The backlog at the given locations (every location when None)."""
    queryset = FulfilmentRequest.objects.filter(
        state__in=(FulfilmentState.OPEN, FulfilmentState.ACCEPTED)
    )
    if location_ids is not None:
        queryset = queryset.filter(location_id__in=sorted(location_ids))
    row = queryset.aggregate(count=Count("pk"), oldest=Min("created_at"))
    return FulfilmentBacklog(count=row["count"] or 0, oldest=row["oldest"])
