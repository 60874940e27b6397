"""What the inventory app tells other apps (STYLE.md §7): published after COMMIT.

Fulfilment requests carry their owner (``owner_type``/``owner_id``, e.g. ``order`` and an
order number) so the owner can move on when a location accepts, rejects or ships.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FulfilmentAccepted:
    request_id: int
    owner_type: str
    owner_id: str


@dataclass(frozen=True, slots=True)
class FulfilmentRejected:
    request_id: int
    location_id: int
    owner_type: str
    owner_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class FulfilmentShipped:
    """Some (or all, ``complete``) lines of a request left the location."""

    request_id: int
    shipment_id: int
    owner_type: str
    owner_id: str
    complete: bool
