"""Orders awaiting payment per shopper: each holds stock nobody else can buy meanwhile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q

from omnimall.core import clock
from omnimall.orders import domain
from omnimall.orders.models import Order
from omnimall.orders.selectors.orders import display_number


def count_awaiting_payment(*, user_id: int | None, phone: str) -> int:
    """Orders still holding stock for payment: a signed-in shopper's own (the user index),
    a guest's by the contact phone (the partial index of unpaid orders' phones). One query.

    A signed-in shopper is not counted by phone: anyone can type anyone's number, and a
    stranger's three unpaid guest orders must not lock a member out of a flash sale."""
    who = Q(user_id=user_id) if user_id is not None else Q(phone=phone)
    return Order.objects.filter(
        who, state=domain.PENDING_PAYMENT, reserved_until__gt=clock.now()
    ).count()


@dataclass(frozen=True, slots=True)
class AwaitingPayment:
    number: str
    total: Decimal
    currency: str
    reserved_until: datetime

    @property
    def display_number(self) -> str:
        return display_number(self.number)


def list_awaiting_payment(
    *, user_id: int | None, guest_tokens: Mapping[str, str]
) -> list[AwaitingPayment]:
    """The orders still holding stock for payment that this visitor may see: the signed-in
    shopper's, and those whose guest token the visitor holds (``{number: token}``, as the
    storefront's session remembers them). Soonest to lapse first; one query."""
    who = Q(number__in=list(guest_tokens)[:50])
    if user_id is not None:
        who |= Q(user_id=user_id)
    rows = (
        Order.objects.filter(who, state=domain.PENDING_PAYMENT, reserved_until__gt=clock.now())
        .order_by("reserved_until", "pk")
        .values_list("number", "guest_token", "user_id", "total", "currency", "reserved_until")
    )
    return [
        AwaitingPayment(number=number, total=total, currency=currency, reserved_until=until)
        for number, token, owner, total, currency, until in rows
        if until is not None  # always, by the filter: for the type checker
        and ((user_id is not None and owner == user_id) or guest_tokens.get(number) == token)
    ]
