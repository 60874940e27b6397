"""Reads for the printed packing slips and pick list of fulfilment requests.

Two queries whatever the number of requests: the requests with their location, then all
their lines with SKU and product names. Texts come out in the active language (the staff
member's), so call these while rendering the page. Nothing here carries a price (a gift
may be shipped) or a pick-up code (the collection secret stays with the shopper).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import get_language

from omnimall.catalog.domain import colour_name
from omnimall.core.numbers import display_number
from omnimall.inventory.models import (
    FulfilmentLine,
    FulfilmentMethod,
    FulfilmentRequest,
    FulfilmentState,
)
from omnimall.inventory.picking import (
    PICKABLE_STATES,
    PickLine,
    mask_phone,
)

# Requests that no longer call for packing: their slips say so, the order page offers none.
DEAD_STATES = frozenset({FulfilmentState.REJECTED, FulfilmentState.CANCELLED})
ADDRESS_PARTS = ("province", "city", "district", "street")  # the Chinese order, big to small
# Only what a slip prints: not the products' descriptions, nor the lines' holds.
REQUEST_COLUMNS = (
    "pk", "number", "method", "state", "reference", "owner_type", "owner_id", "ship_to",
    "note", "created_at", "location__code", "location__name_en", "location__name_zh",
    "location__city", "location__address",
)  # fmt: skip
LINE_COLUMNS = (
    "request_id", "quantity", "shipment_id", "sku__code", "sku__size", "sku__colour",
    "sku__product__name_en", "sku__product__name_zh",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SlipLine:
    sku_code: str
    product_name: str
    variant: str  # "Red / M", "红色 / M"
    quantity: int
    shipped: bool  # left in an earlier shipment


@dataclass(frozen=True, slots=True)
class PackingSlip:
    id: int
    number: str
    method: str
    state: str
    state_label: str
    reference: str
    order_number: str  # the order's number, "" when the request serves something else
    created_at: datetime
    location_code: str
    location_name: str
    location_address: str
    recipient: str
    phone: str  # masked on a pick-up slip
    address: str  # delivery only: province city district street
    postal_code: str
    note: str  # the shopper's note to the shop
    lines: tuple[SlipLine, ...]

    @property
    def is_pickup(self) -> bool:
        return self.method == FulfilmentMethod.PICKUP

    @property
    def is_dead(self) -> bool:
        return self.state in DEAD_STATES

    @property
    def order_number_shown(self) -> str:
        return display_number(self.order_number)

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def _pick(zh: str, en: str) -> str:
    return (zh or en) if _zh() else (en or zh)


def list_packing_slips(
    *, request_ids: Collection[int], location_ids: Collection[int] | None
) -> list[PackingSlip]:
    """The slips of the requests among ``request_ids`` at ``location_ids`` (None: every
    location), oldest request first; a request elsewhere is simply not there."""
    rows = FulfilmentRequest.objects.filter(pk__in=sorted(request_ids))
    if location_ids is not None:
        rows = rows.filter(location_id__in=sorted(location_ids))
    requests = list(rows.order_by("pk").values(*REQUEST_COLUMNS))
    lines: dict[int, list[SlipLine]] = {row["pk"]: [] for row in requests}
    if lines:
        rows_of_lines = (
            FulfilmentLine.objects.filter(request_id__in=sorted(lines))
            .order_by("request_id", "pk")
            .values(*LINE_COLUMNS)
        )
        for line in rows_of_lines:
            lines[line["request_id"]].append(_line(line))
    return [_slip(row, tuple(lines[row["pk"]])) for row in requests]


def _line(row: dict[str, Any]) -> SlipLine:
    colour = colour_name(row["sku__colour"], zh=_zh()) if row["sku__colour"] else ""
    return SlipLine(
        sku_code=row["sku__code"],
        product_name=_pick(row["sku__product__name_zh"], row["sku__product__name_en"]),
        variant=" / ".join(part for part in (colour, row["sku__size"]) if part),
        quantity=row["quantity"],
        shipped=row["shipment_id"] is not None,
    )


def _slip(row: dict[str, Any], lines: tuple[SlipLine, ...]) -> PackingSlip:
    to = row["ship_to"] if isinstance(row["ship_to"], dict) else {}
    pickup = row["method"] == FulfilmentMethod.PICKUP
    phone = str(to.get("phone") or "")
    state = row["state"]
    return PackingSlip(
        id=row["pk"],
        number=row["number"],
        method=row["method"],
        state=state,
        state_label=str(FulfilmentState(state).label) if state in FulfilmentState.values else state,
        reference=row["reference"],
        order_number=row["owner_id"] if row["owner_type"] == "order" else "",
        created_at=row["created_at"],
        location_code=row["location__code"],
        location_name=_pick(row["location__name_zh"], row["location__name_en"]),
        location_address=" ".join(
            part for part in (row["location__city"], row["location__address"]) if part
        ),
        recipient=str(to.get("name") or ""),
        phone=mask_phone(phone) if pickup else phone,
        address="" if pickup else " ".join(str(to.get(k) or "") for k in ADDRESS_PARTS).strip(),
        postal_code="" if pickup else str(to.get("postal_code") or ""),
        note=row["note"],
        lines=lines,
    )


def pick_lines(slips: Iterable[PackingSlip]) -> list[PickLine]:
    """The lines still to pick: unshipped lines of open or accepted requests."""
    return [
        PickLine(
            location=f"{slip.location_name} ({slip.location_code})",
            request_number=slip.number,
            sku_code=line.sku_code,
            product_name=line.product_name,
            variant=line.variant,
            quantity=line.quantity,
        )
        for slip in slips
        if slip.state in PICKABLE_STATES
        for line in slip.lines
        if not line.shipped
    ]


@dataclass(frozen=True, slots=True)
class SlipRef:
    id: int
    number: str


def list_printable_requests(
    *, owner_type: str, owner_id: str, location_ids: Collection[int] | None
) -> list[SlipRef]:
    """The requests serving one owner (an order: ``"order"``, its number) that still call
    for packing or were shipped, at ``location_ids`` (None: everywhere). One query."""
    rows = FulfilmentRequest.objects.filter(owner_type=owner_type, owner_id=owner_id).exclude(
        state__in=DEAD_STATES
    )
    if location_ids is not None:
        rows = rows.filter(location_id__in=sorted(location_ids))
    refs = rows.order_by("pk").values_list("pk", "number")
    return [SlipRef(id=pk, number=number) for pk, number in refs]
