"""Printed packing slips, on the audit trail.

A packing slip carries a shopper's name, phone and address out of the system on paper.
The shop audits every export of shoppers' personal data (the order list's CSV writes
``orders.exported``; viewing a page writes nothing), so each slip printed is one entry
``fulfilment.slip_printed`` on its request: who printed which request's slip, and when,
stays answerable. The pick list carries no personal data and is not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.inventory.models import FulfilmentRequest


@transaction.atomic(durable=True)
def record_slips_printed(*, actor: Actor, requests: Sequence[tuple[int, str]]) -> None:
    """Note that ``actor`` printed the slips of ``requests`` (id, number) together. One
    INSERT, whatever their number."""
    batch = len(requests)
    audit.record_many(
        actor=actor,
        action="fulfilment.slip_printed",
        model=FulfilmentRequest,
        subjects=[(pk, number, {"slips_printed_together": batch}) for pk, number in requests],
    )
