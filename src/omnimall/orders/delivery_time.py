"""When a parcel on its way usually arrives: the day it shipped (shop time) plus the days
delivery to the order's province usually takes (its shipping zone's, else the default
rate's: ``checkout`` holds them). Read by the order page and API and the shipped email."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from omnimall.checkout.pricing import delivery_quote
from omnimall.orders.models import DeliveryMethod, Order


def delivery_days(order: Order) -> tuple[int, int] | None:
    """(fewest, most) days for a delivery's province; None for pick-up or when not said.
    One cached read of the shipping zones."""
    province = (order.ship_to or {}).get("province")
    if order.delivery_method != DeliveryMethod.SHIP or not province:
        return None
    rate, _fee = delivery_quote(str(province), subtotal=order.subtotal)
    return rate.days


def expected_window(shipped_at: datetime, days: tuple[int, int] | None) -> tuple[date, date] | None:
    """The first and last day a parcel shipped at ``shipped_at`` usually arrives."""
    if days is None:
        return None
    shipped_on = timezone.localdate(shipped_at)
    return shipped_on + timedelta(days=days[0]), shipped_on + timedelta(days=days[1])
