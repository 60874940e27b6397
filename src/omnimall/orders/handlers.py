"""Reactions to other apps' events (registered in ``OrdersConfig.ready``).

Inventory publishes fulfilment events after its transaction commits; each handler runs
its own transaction. A failing handler is logged, never raised into the caller (the
stock change it reacts to has already committed; staff see the order flagged or stuck).
"""

from __future__ import annotations

import logging

from omnimall.core import events
from omnimall.inventory.events import FulfilmentAccepted, FulfilmentRejected, FulfilmentShipped
from omnimall.orders.services import fulfilment, pickup

logger = logging.getLogger(__name__)


def on_fulfilment_accepted(event: FulfilmentAccepted) -> None:
    try:
        pickup.on_fulfilment_accepted(
            request_id=event.request_id, owner_type=event.owner_type, owner_id=event.owner_id
        )
    except Exception:
        logger.exception("order %s: handling %s failed", event.owner_id, event)


def on_fulfilment_rejected(event: FulfilmentRejected) -> None:
    try:
        fulfilment.on_fulfilment_rejected(
            request_id=event.request_id,
            location_id=event.location_id,
            owner_type=event.owner_type,
            owner_id=event.owner_id,
            reason=event.reason,
        )
    except Exception:
        logger.exception("order %s: handling %s failed", event.owner_id, event)


def on_fulfilment_shipped(event: FulfilmentShipped) -> None:
    try:
        fulfilment.on_fulfilment_shipped(
            request_id=event.request_id,
            shipment_id=event.shipment_id,
            owner_type=event.owner_type,
            owner_id=event.owner_id,
        )
    except Exception:
        logger.exception("order %s: handling %s failed", event.owner_id, event)


def register() -> None:
    events.subscribe(FulfilmentAccepted, on_fulfilment_accepted)
    events.subscribe(FulfilmentRejected, on_fulfilment_rejected)
    events.subscribe(FulfilmentShipped, on_fulfilment_shipped)
