"""Demo data only: the cart an order of the demo history was checked out from, dated
when it was (``orders.demo``, ``core.demo``); and the demo shop's shipping zones."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from omnimall.checkout.models import Cart, CartLine, ShippingZone
from omnimall.checkout.services.shipping import save_shipping_zone
from omnimall.core.actors import Actor
from omnimall.core.demo import TimeMap
from omnimall.core.models import AuditEntry


def backdate_cart(*, token: str, timeline: TimeMap) -> None:
    timeline.shift(CartLine.objects.filter(cart__token=token), "added_at")
    timeline.shift(Cart.objects.filter(token=token), "created_at", "updated_at")


@dataclass(frozen=True, slots=True)
class DemoZone:
    name_zh: str
    name_en: str
    provinces: tuple[str, ...]
    fee: Decimal
    free_from: Decimal | None
    delivers: bool = True
    days: tuple[int, int] | None = None  # usually delivered in (fewest, most) days


# As many Chinese shops do: free nationwide from the default threshold, but the far west,
# the north and Hainan pay more and reach free delivery later; no delivery outside the
# mainland. Provinces in no zone pay the default rate (SHIPPING_FEE, FREE_SHIPPING_FROM).
DEMO_ZONES = (
    DemoZone(
        "偏远地区",
        "Remote regions",
        ("XJ", "XZ", "QH", "NM", "NX", "GS", "HI"),
        fee=Decimal("20.00"),
        free_from=Decimal("299.00"),
        days=(4, 7),
    ),
    DemoZone(
        "港澳台",
        "Hong Kong, Macao and Taiwan",
        ("HK", "MO", "TW"),
        fee=Decimal("0.00"),
        free_from=None,
        delivers=False,
    ),
)


def load_demo_shipping_zones() -> int:
    """The demo's shipping zones, once: none when the shop has zones, or had some (their
    changes are in the audit trail) and staff deleted them. Returns how many were made."""
    if (
        ShippingZone.objects.exists()
        or AuditEntry.objects.filter(action__startswith="shippingzone.").exists()
    ):
        return 0
    actor = Actor.system("load_demo")
    for zone in DEMO_ZONES:
        save_shipping_zone(
            zone=ShippingZone(
                name_zh=zone.name_zh,
                name_en=zone.name_en,
                fee=zone.fee,
                free_from=zone.free_from,
                delivers=zone.delivers,
                days_min=zone.days[0] if zone.days else None,
                days_max=zone.days[1] if zone.days else None,
            ),
            provinces=zone.provinces,
            actor=actor,
        )
    return len(DEMO_ZONES)
