"""Demo data only: an order's fulfilment moved to when the demo history says it happened.

``orders.demo`` ships its history's orders through the fulfilment services, then dates
them back (``core.demo``). Only the requests and shipments move: the stock ledger
(movements, reservations, levels) keeps the time each entry was written.
"""

from __future__ import annotations

from omnimall.core.demo import TimeMap
from omnimall.inventory.models import FulfilmentRequest, Shipment


def backdate_fulfilment(*, owner_type: str, owner_id: str, timeline: TimeMap) -> None:
    """The fulfilment requests of one owner (an order: ``"order"``, its number) and their
    shipments."""
    requests = FulfilmentRequest.objects.filter(owner_type=owner_type, owner_id=owner_id)
    timeline.shift(Shipment.objects.filter(request__in=requests), "shipped_at", "created_at")
    timeline.shift(requests, "created_at", "updated_at")
