"""Store credit (channel conflict): which store an online order is credited to.

A brand's stores lose sales to its own online mall; crediting each online order to one
store keeps them on the mall's side. The rule, first match wins:

1. ``referral`` — the shopper arrived through a store's referral link or QR code
   (``/s/<code>/``, see ``channels.referrals``) and that code is an active store;
2. ``pickup_store`` — the order is picked up in a store;
3. ``home_store`` — the home store of the member linked to the shopper's account
   (``home_store_of``);
4. ``delivery_city`` — an active store in the delivery city (Chinese or English city
   names, "上海市" = "Shanghai"), the first by location priority, then nearest to the
   city centre;
5. no store: ``(None, "")``.

One query (the active locations), plus one for the member of a signed-in shopper when
neither a referral nor a pick-up store decides; none when there is nothing to go
by. Placement calls ``credit_store_for`` and stores the answer on the order.

``store_credit_report`` sums the credited orders per store for the back office
(``orders.admin.credit``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Sum

from omnimall.core.money import quantize
from omnimall.inventory.domain import distance_km, same_city
from omnimall.inventory.selectors.allocation import Location, list_locations, resolve_city
from omnimall.members.selectors.members import member_for_user
from omnimall.orders.domain import PAID_STATES
from omnimall.orders.models import CreditReason, Order

STORE_KIND = "store"  # inventory LocationKind.STORE: only stores earn credit


def home_store_of(user_id: int | None) -> int | None:
    """The shopper's home store: the home store of the member linked to the account
    (``members.selectors.members.member_for_user``); None for a guest (no query)."""
    if user_id is None:
        return None
    member = member_for_user(user_id)
    return None if member is None else member.home_store_id


def _by_referral(stores: list[Location], code: str) -> int | None:
    wanted = code.strip().casefold()
    if not wanted:
        return None
    return next((s.location_id for s in stores if s.code.casefold() == wanted), None)


def _by_delivery_city(stores: list[Location], city: str, every: list[Location]) -> int | None:
    matching = [s for s in stores if s.city and same_city(s.city, city)]
    if not matching:
        return None
    centre = resolve_city(city, every)

    def rank(store: Location) -> tuple[int, float, str]:
        far = (
            distance_km(store.coordinates, centre.coordinates)
            if centre is not None and store.coordinates is not None
            else float("inf")
        )
        return (store.priority, far, store.code)

    return min(matching, key=rank).location_id


def credit_store_for(
    *,
    referral_store_code: str,
    pickup_store_id: int | None,
    user_id: int | None,
    ship_to_city: str | None,
) -> tuple[int | None, str]:
    """``(store location id, CreditReason value)`` for a new order, or ``(None, "")``."""
    code = (referral_store_code or "").strip()[:40]
    city = (ship_to_city or "").strip()[:60]
    if not (code or pickup_store_id is not None or user_id is not None or city):
        return None, ""
    every = list_locations()
    stores = [loc for loc in every if loc.kind == STORE_KIND]
    store_ids = {s.location_id for s in stores}
    if code:
        found = _by_referral(stores, code)
        if found is not None:
            return found, CreditReason.REFERRAL.value
    if pickup_store_id is not None and pickup_store_id in store_ids:
        return pickup_store_id, CreditReason.PICKUP_STORE.value
    home = home_store_of(user_id)  # asked only when it decides (one query)
    if home is not None and home in store_ids:
        return home, CreditReason.HOME_STORE.value
    if city:
        found = _by_delivery_city(stores, city, every)
        if found is not None:
            return found, CreditReason.DELIVERY_CITY.value
    return None, ""


# --- the back-office report -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreCredit:
    """One store's credited orders over a period (orders in paid states only)."""

    location_id: int
    code: str
    name_en: str
    name_zh: str
    orders: int
    revenue: Decimal  # paid less refunded
    by_reason: Mapping[str, int]  # CreditReason value → orders

    def share(self, reason: str) -> Decimal:
        """The percentage of this store's orders credited for ``reason`` (one decimal)."""
        if not self.orders:
            return Decimal("0.0")
        return (Decimal(100) * self.by_reason.get(reason, 0) / self.orders).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


def store_credit_report(
    *,
    start: datetime,
    end: datetime,
    location_ids: Iterable[int] | None = None,
    currency: str | None = None,
) -> list[StoreCredit]:
    """Orders placed in ``[start, end)`` and credited to a store, summed per store, by
    revenue then code (one query). ``location_ids``: only these stores (None: every one).
    Only orders in ``currency`` (the shop's, by default) are summed: amounts in two
    currencies do not add up.
    """
    rows = Order.objects.filter(
        placed_at__gte=start,
        placed_at__lt=end,
        credited_store__isnull=False,
        state__in=sorted(PAID_STATES),
        currency=currency or settings.DEFAULT_CURRENCY,
    )
    if location_ids is not None:
        rows = rows.filter(credited_store_id__in=sorted(set(location_ids)))
    grouped = (
        rows.values(
            "credited_store_id",
            "credited_store__code",
            "credited_store__name_en",
            "credited_store__name_zh",
            "credit_reason",
        )
        .annotate(orders=Count("id"), revenue=Sum(F("amount_paid") - F("amount_refunded")))
        .order_by()
    )
    stores: dict[int, dict[str, Any]] = {}
    for row in grouped:
        entry = stores.setdefault(
            row["credited_store_id"],
            {
                "code": row["credited_store__code"],
                "name_en": row["credited_store__name_en"],
                "name_zh": row["credited_store__name_zh"],
                "orders": 0,
                "revenue": Decimal("0.00"),
                "by_reason": {},
            },
        )
        entry["orders"] += row["orders"]
        entry["revenue"] += row["revenue"] or Decimal("0")
        reason = row["credit_reason"] or ""
        entry["by_reason"][reason] = entry["by_reason"].get(reason, 0) + row["orders"]
    report = [
        StoreCredit(
            location_id=location_id,
            code=entry["code"],
            name_en=entry["name_en"],
            name_zh=entry["name_zh"],
            orders=entry["orders"],
            revenue=quantize(Decimal(entry["revenue"])),
            by_reason=entry["by_reason"],
        )
        for location_id, entry in stores.items()
    ]
    report.sort(key=lambda s: (-s.revenue, s.code))
    return report
