"""The order state machine: the one place that says which state may follow which.

Pure Python (no Django). ``orders.services`` moves orders only through
``check_transition``; a refused move raises ``OrderStateError`` (409 ``order_state``).

    pending_payment → paid → allocated → partially_shipped → shipped → delivered
                                       ↘ ready_for_pickup → picked_up
    delivered / picked_up → completed
    after delivery or pick-up: returned, partly_refunded, refunded
    cancelled: while unpaid, or by staff (with a refund) before anything shipped
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

PENDING_PAYMENT = "pending_payment"
PAID = "paid"
ALLOCATED = "allocated"
PARTIALLY_SHIPPED = "partially_shipped"
SHIPPED = "shipped"
READY_FOR_PICKUP = "ready_for_pickup"
DELIVERED = "delivered"
PICKED_UP = "picked_up"
COMPLETED = "completed"
CANCELLED = "cancelled"
PARTLY_REFUNDED = "partly_refunded"
REFUNDED = "refunded"
RETURNED = "returned"

_AFTER_HANDOVER = frozenset({COMPLETED, RETURNED, PARTLY_REFUNDED, REFUNDED})

TRANSITIONS: Mapping[str, frozenset[str]] = {
    PENDING_PAYMENT: frozenset({PAID, CANCELLED}),
    PAID: frozenset({ALLOCATED, CANCELLED}),
    # allocated → allocated: a rejected line was re-allocated elsewhere.
    ALLOCATED: frozenset({ALLOCATED, PARTIALLY_SHIPPED, SHIPPED, READY_FOR_PICKUP, CANCELLED}),
    PARTIALLY_SHIPPED: frozenset({PARTIALLY_SHIPPED, SHIPPED}),
    SHIPPED: frozenset({DELIVERED}),
    READY_FOR_PICKUP: frozenset({PICKED_UP, CANCELLED}),
    DELIVERED: _AFTER_HANDOVER,
    PICKED_UP: _AFTER_HANDOVER,
    COMPLETED: frozenset({RETURNED, PARTLY_REFUNDED, REFUNDED}),
    PARTLY_REFUNDED: frozenset({PARTLY_REFUNDED, REFUNDED, RETURNED, COMPLETED}),
    RETURNED: frozenset({PARTLY_REFUNDED, REFUNDED}),
    REFUNDED: frozenset(),
    CANCELLED: frozenset(),
}

# The shopper may cancel before paying; staff may cancel until something has left.
SHOPPER_CANCELLABLE = frozenset({PENDING_PAYMENT})
# Paid, and no warehouse or store has taken it on yet (no fulfilment request accepted):
# the shopper may still cancel for a full refund, as on China's marketplaces (未发货退款),
# unless settings.SHOPPER_CANCEL_PAID is off. Put aside for pick-up is too late: the store
# has done the work, and an uncollected order is cancelled and refunded by itself.
SHOPPER_CANCELLABLE_PAID = frozenset({PAID, ALLOCATED})
# A delivery's address may change until a warehouse or store takes the order on.
READDRESSABLE = frozenset({PENDING_PAYMENT, PAID, ALLOCATED})
# A pick-up may move to another store until its store puts the goods aside.
STORE_CHANGEABLE = frozenset({PENDING_PAYMENT, PAID, ALLOCATED})
# The delivery methods (``models.DeliveryMethod``'s values).
SHIP, PICKUP = "ship", "pickup"


def may_readdress(method: str, state: str) -> bool:
    """A delivery whose state allows a new address (whether a location has taken it on
    is the caller's to check: ``taken_on``)."""
    return method == SHIP and state in READDRESSABLE


def may_change_store(method: str, state: str) -> bool:
    """A pick-up whose state allows another store (taken on: the caller checks)."""
    return method == PICKUP and state in STORE_CHANGEABLE


# Someone else may be sent to collect a pick-up until it is handed over.
COLLECTOR_SETTABLE = frozenset({PENDING_PAYMENT, PAID, ALLOCATED, READY_FOR_PICKUP})


def may_set_collector(method: str, state: str) -> bool:
    """A pick-up not yet handed over, cancelled or closed."""
    return method == PICKUP and state in COLLECTOR_SETTABLE


def collector_of(name: str, phone: str) -> dict[str, str] | None:
    """Someone the shopper sends to collect a pick-up, as the APIs and webhooks give them;
    None when the shopper comes themselves."""
    return {"name": name, "phone": phone} if name else None


def shopper_may_keep_longer(
    state: str, *, collect_by: datetime | None, extended: bool, now: datetime, days: int
) -> bool:
    """A pick-up waiting at its store, before its deadline, that the shopper has not yet
    kept longer (``days``: settings.PICKUP_EXTENSION_DAYS; 0 leaves it to the store)."""
    return (
        state == READY_FOR_PICKUP
        and days > 0
        and not extended
        and collect_by is not None
        and collect_by > now
    )


STAFF_CANCELLABLE = frozenset({PENDING_PAYMENT, PAID, ALLOCATED, READY_FOR_PICKUP})
# A return may be requested once the goods are in the shopper's hands.
RETURNABLE = frozenset({DELIVERED, PICKED_UP, COMPLETED, PARTLY_REFUNDED})
PAID_STATES = frozenset(TRANSITIONS) - {PENDING_PAYMENT, CANCELLED}


def shopper_cancellable(*, paid_allowed: bool) -> frozenset[str]:
    """The states a shopper may cancel in (``paid_allowed``: settings.SHOPPER_CANCEL_PAID);
    a paid one only while no location has taken it on (``shopper_may_cancel``)."""
    return SHOPPER_CANCELLABLE | SHOPPER_CANCELLABLE_PAID if paid_allowed else SHOPPER_CANCELLABLE


def shopper_may_cancel(state: str, *, taken_on: bool, paid_allowed: bool) -> bool:
    """``taken_on``: a warehouse or store has accepted one of the order's requests."""
    if taken_on and state in SHOPPER_CANCELLABLE_PAID:
        return False
    return state in shopper_cancellable(paid_allowed=paid_allowed)


def may_have_invoice(state: str) -> bool:
    """An invoice (fapiao) may be asked for, and kept asked for, unless the order was
    cancelled or wholly refunded: there is nothing left to invoice."""
    return state not in (CANCELLED, REFUNDED)


def invoice_amount(*, paid: Decimal, refunded: Decimal) -> Decimal:
    """What an invoice issued now covers: the money kept, paid less refunded."""
    return paid - refunded


def may_issue_invoice(state: str) -> bool:
    """Issued only for money taken: once paid, and not wholly refunded."""
    return state in PAID_STATES and may_have_invoice(state)


OPEN_FULFILMENT = frozenset({PAID, ALLOCATED, PARTIALLY_SHIPPED, READY_FOR_PICKUP})
# Parcels on their way to the shopper: when they usually arrive is worth saying.
ON_ITS_WAY = frozenset({PARTIALLY_SHIPPED, SHIPPED})


class OrderStateError(Exception):
    """A move the state machine does not allow (``orders.errors`` maps it to 409)."""

    def __init__(self, state: str, target: str) -> None:
        super().__init__(f"An order that is {state} cannot become {target}.")
        self.state = state
        self.target = target


def can_transition(state: str, target: str) -> bool:
    return target in TRANSITIONS.get(state, frozenset())


def check_transition(state: str, target: str) -> None:
    if not can_transition(state, target):
        raise OrderStateError(state, target)


def shipping_state(*, lines_total: int, lines_shipped: int) -> str:
    """The state an order shipping ``lines_shipped`` of ``lines_total`` units is in."""
    if lines_shipped <= 0:
        return ALLOCATED
    return SHIPPED if lines_shipped >= lines_total else PARTIALLY_SHIPPED


def refund_state(*, paid: object, refunded: object) -> str:
    """``refunded`` once every paid cent went back, else ``partly_refunded``."""
    return REFUNDED if refunded >= paid else PARTLY_REFUNDED  # type: ignore[operator]
