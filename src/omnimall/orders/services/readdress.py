"""A delivery's address changed before it ships (修改收货地址), by the shopper on the order
page or in the Store API, or by customer service in the back office.

Allowed while the order awaits payment or is paid, until a warehouse or store takes one of
its fulfilment requests on (accepts it or ships a line): the requests are locked while
deciding, so a racing ``accept`` ends one way or the other, as for a shopper's cancellation.
The new address is checked as checkout checks one, and the shop must deliver there. Where
delivery costs less than the fee charged, a paid order gets the difference back (refunded
through the gateway in the same transaction, as any refund: the fee and total charged
stay on the order; the order keeps its state). Where it costs more, or for an order
still awaiting payment (its payment in flight is for the old total) or paid partly with
points, another fee is refused: cancel and order again; unless customer service lets the
shop cover a dearer delivery (``shop_covers``, a goodwill decision: the fee charged stays,
and a staff note on the timeline records what the shop pays). The order, its open requests (for
the WMS, which sees them move by ``updated_at``), the timeline and an
``order.address_changed`` webhook change together; the store credit stays as placement
decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_noop

from omnimall.checkout.domain import address_errors, clean_address
from omnimall.checkout.errors import NoDeliveryToRegionError
from omnimall.checkout.selectors import delivery_quote
from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.orders import domain
from omnimall.orders.errors import (
    AddressNotChangeableError,
    DeliveryFeeDiffersError,
    InvalidShipToError,
    OrderBeingPreparedError,
)
from omnimall.orders.models import Order, OrderEventKind
from omnimall.orders.texts import text

from . import messages, refunds
from .fulfilment import live_requests
from .timeline import add_event, lock_order


def may_readdress(order: Order) -> bool:
    """Whether the order's state and method allow a new address (requests not checked)."""
    return domain.may_readdress(order.delivery_method, order.state)


def not_changeable(order: Order) -> AddressNotChangeableError:
    """The refusal for an order whose state or method allows no new address."""
    return AddressNotChangeableError(number=order.number, state=order.state)


def _refundable_difference(order: Order, fee: Decimal) -> bool:
    """A lower fee whose difference can go back to a paid order's payment. Not for an
    order paid partly with points: a refund gives points back in proportion to the money,
    so the difference would not come back exactly."""
    difference = order.shipping - fee
    return (
        order.state != domain.PENDING_PAYMENT
        and not order.points_used
        and difference > 0
        and difference <= order.amount_paid - order.amount_refunded
    )


def _refund_difference(order: Order, *, fee: Decimal, actor: Actor) -> None:
    """Refund the difference between the fee charged and the new, lower one (the order
    keeps its state). The order's fee and total stay what was charged: like every
    refund, the difference is in ``amount_refunded`` and the payments ledger."""
    difference = order.shipping - fee
    charged = order.shipping
    refunds.refund_locked(
        order,
        amount=difference,
        reason=text(
            gettext_noop("delivery to the new address costs %(fee)s, not %(charged)s"),
            fee=f"{fee:.2f}",
            charged=f"{charged:.2f}",
        ),
        actor=actor,
        target=order.state,
        data={"delivery_fee": [f"{charged:.2f}", f"{fee:.2f}"]},
    )


def _note_covered(order: Order, *, fee: Decimal, covered: Decimal, actor: Actor) -> None:
    """What the shop pays on top of the fee charged: a staff note (never shown to the
    shopper), for whoever reconciles delivery costs."""
    add_event(
        order,
        kind=OrderEventKind.NOTE,
        message=text(
            gettext_noop(
                "The shop covers %(covered)s %(currency)s of delivery: the new address costs "
                "%(fee)s, the shopper paid %(charged)s."
            ),
            covered=f"{covered:.2f}",
            currency=order.currency,
            fee=f"{fee:.2f}",
            charged=f"{order.shipping:.2f}",
        ),
        actor=actor,
        data={"delivery_fee": [f"{order.shipping:.2f}", f"{fee:.2f}"], "covered": f"{covered:.2f}"},
    )


def change_ship_to(
    *, order_id: int, address: Mapping[str, object], actor: Actor, shop_covers: bool = False
) -> Order:
    """Deliver the order to ``address``; the order, changed (a lower fee refunded to a
    paid order; a higher one, with ``shop_covers``, paid by the shop). Nothing is written
    on a refusal: 422 ``invalid_address`` / ``no_delivery_to_region``, 409
    ``address_not_changeable`` / ``order_being_prepared`` / ``delivery_fee_differs`` /
    ``refund_failed``."""
    errors = address_errors(address)
    if errors:
        raise InvalidShipToError(errors=errors)
    ship_to = clean_address(address)
    with transaction.atomic():
        order = lock_order(order_id)
        if not may_readdress(order):
            raise not_changeable(order)
        requests = live_requests(order)
        taken_on = inventory_fulfilment.lock_taken_on(requests)
        if taken_on:
            raise OrderBeingPreparedError(
                "A warehouse or store has started preparing this order: its delivery address "
                "can no longer change.",
                number=order.number,
                requests=taken_on,
            )
        rate, fee = delivery_quote(ship_to["province"], subtotal=order.subtotal)
        if not rate.delivers:
            raise NoDeliveryToRegionError(province=ship_to["province"], zone=rate.zone)
        covered = fee - order.shipping if shop_covers and fee > order.shipping else Decimal(0)
        if fee != order.shipping and not covered and not _refundable_difference(order, fee):
            raise DeliveryFeeDiffersError(charged=f"{order.shipping:.2f}", fee=f"{fee:.2f}")
        before = dict(order.ship_to or {})
        if before == ship_to:
            return order
        order.ship_to = ship_to
        order.save(update_fields=["ship_to", "updated_at"])
        inventory_fulfilment.readdress(requests, ship_to)
        add_event(
            order,
            kind=OrderEventKind.FULFILMENT,
            message=text(
                gettext_noop("delivery address changed to %(city)s %(district)s"),
                city=ship_to["city"],
                district=ship_to["district"],
            ),
            actor=actor,
            data={"before": before, "after": ship_to},
        )
        audit.record(
            actor=actor,
            action="order.address_changed",
            subject=order,
            changes={
                "ship_to": [before, ship_to],
                **({"delivery_fee_covered": f"{covered:.2f}"} if covered else {}),
            },
        )
        if covered:
            _note_covered(order, fee=fee, covered=covered, actor=actor)
        elif fee != order.shipping:
            _refund_difference(order, fee=fee, actor=actor)
        messages.publish_order_event(order, topic="order.address_changed")
    return order
