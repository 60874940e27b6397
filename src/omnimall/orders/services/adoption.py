"""A guest's orders kept in the account they then sign in to or create.

A shopper who bought as a guest and then signs in (or signs up) on the same browser finds
those orders in their account: order history, "buy again", returns from the account pages,
and the brake on unpaid orders counting them under the account. Only orders this browser
session holds the guest token of (``checkout.remembered_orders``: placed here, or opened
from their email or "find your order") are candidates, and only those placed with the
account's email address: someone signing in later on a shared computer does not take the
earlier shopper's orders. The guest token keeps working, so links in emails still open them.

An order still awaiting payment earns its points for the account's member when paid, like
any signed-in order; one already paid does not earn them afterwards (points are settled at
payment; customer service can adjust a member's points by hand).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from omnimall.core import sql
from omnimall.core.actors import Actor
from omnimall.orders.models import Order, OrderEventKind
from omnimall.orders.texts import text

from .timeline import new_event

MOST = 20  # as many as a session remembers (``remembered_orders.KEEP``)


def adopt_guest_orders(*, user: Any, tokens: Mapping[str, str]) -> list[str]:
    """Attach to ``user`` the guest orders in ``tokens`` (``{number: guest token}``) that
    were placed with the user's email address. Returns their numbers (oldest first);
    idempotent: an order already in an account is left where it is."""
    email = (getattr(user, "email", "") or "").strip().casefold()
    numbers = list(tokens)[-MOST:]
    if not email or not numbers:
        return []
    with transaction.atomic():
        candidates = (
            Order.objects.select_for_update()
            .filter(number__in=numbers, user__isnull=True)
            .order_by("pk")
        )
        adopted = [
            order
            for order in candidates
            if secrets.compare_digest(order.guest_token, str(tokens[order.number]))
            and order.email.strip().casefold() == email
        ]
        if not adopted:
            return []
        now = timezone.now()
        for order in adopted:
            order.user_id = user.pk
            order.updated_at = now
        Order.objects.bulk_update(adopted, ["user", "updated_at"])
        actor = Actor.from_user(user)
        sql.insert(
            [
                new_event(
                    order,
                    kind=OrderEventKind.ACCOUNT,
                    message=text(gettext_noop("kept in the shopper's account after signing in")),
                    actor=actor,
                    data={"user_id": user.pk},
                )
                for order in adopted
            ]
        )
    return [order.number for order in adopted]
