"""Demo data only: what an order of the demo history earned, dated when it was paid.

``orders.demo`` pays the demo shopper's orders through the real path (points earned,
purchase recorded), then dates them back (``core.demo``). The points lots keep their
dates: when points become available and expire is the ledger's rule, not history.
"""

from __future__ import annotations

from omnimall.core.demo import TimeMap
from omnimall.members.models import MemberPurchase, PointsEntry


def backdate_order_points(*, document: str, timeline: TimeMap) -> None:
    """The purchase and points entries recorded for one document (an order number)."""
    timeline.shift(MemberPurchase.objects.filter(document=document), "occurred_at", "created_at")
    timeline.shift(PointsEntry.objects.filter(document=document), "created_at")
