"""Orders awaiting payment per shopper: each holds stock nobody else can buy meanwhile."""

from __future__ import annotations

from django.db.models import Q

from omnimall.core import clock
from omnimall.orders import domain
from omnimall.orders.models import Order


def count_awaiting_payment(*, user_id: int | None, phone: str) -> int:
    """Orders still holding stock for payment placed by this account or with this contact
    phone (one query, on the partial index of unpaid orders' phones and the user index)."""
    who = Q(phone=phone)
    if user_id is not None:
        who |= Q(user_id=user_id)
    return Order.objects.filter(
        who, state=domain.PENDING_PAYMENT, reserved_until__gt=clock.now()
    ).count()
