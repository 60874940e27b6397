"""Demo data only: the carriers, and an order's fulfilment moved to when the demo history
says it happened.

``orders.demo`` ships its history's orders through the fulfilment services, then dates
them back (``core.demo``). Only the requests and shipments move: the stock ledger
(movements, reservations, levels) keeps the time each entry was written.
"""

from __future__ import annotations

from django.db import transaction

from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.core.demo import TimeMap
from omnimall.core.models import AuditEntry
from omnimall.inventory.models import Carrier, FulfilmentRequest, Shipment

# The carriers the demo history ships with (``orders.demo.people``), with tracking pages on
# kuaidi100, a tracking site that covers them all. A real shop would link each carrier's own.
DEMO_CARRIERS = (
    ("sf", "SF Express", "顺丰速运", "SF, 顺丰", "shunfeng"),
    ("zto", "ZTO Express", "中通快递", "中通", "zhongtong"),
    ("yto", "YTO Express", "圆通速递", "圆通", "yuantong"),
    ("jd", "JD Logistics", "京东物流", "JDL, 京东", "jd"),
)


def load_demo_carriers() -> int:
    """The demo's carriers, once: none when the shop has carriers or had some (staff may
    have deleted them; the audit trail remembers). Returns how many were made."""
    if (
        Carrier.objects.exists()
        or AuditEntry.objects.filter(action__startswith="carrier.").exists()
    ):
        return 0
    actor = Actor.system("load_demo")
    with transaction.atomic():
        for code, name_en, name_zh, aliases, site_code in DEMO_CARRIERS:
            carrier = Carrier(
                code=code,
                name_en=name_en,
                name_zh=name_zh,
                aliases=aliases,
                tracking_url=f"https://www.kuaidi100.com/chaxun?com={site_code}&nu={{number}}",
            )
            audit.save_with_audit(instance=carrier, actor=actor)
    return len(DEMO_CARRIERS)


def backdate_fulfilment(*, owner_type: str, owner_id: str, timeline: TimeMap) -> None:
    """The fulfilment requests of one owner (an order: ``"order"``, its number) and their
    shipments."""
    requests = FulfilmentRequest.objects.filter(owner_type=owner_type, owner_id=owner_id)
    timeline.shift(Shipment.objects.filter(request__in=requests), "shipped_at", "created_at")
    timeline.shift(requests, "created_at", "updated_at")
