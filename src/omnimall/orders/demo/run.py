"""Performing one order of the demo history through the shop's own services, then dating
it back.

Each step goes the way it goes in the shop: a cart and its lines (checkout's services),
checkout (placement holds the stock and starts the payment), the shopper paying on the
sandbox bank's page and the bank's signed notification settled by the shop, allocation,
the warehouse accepting and shipping (inventory's fulfilment services, as the WMS API
calls them), the carrier confirming delivery, the store putting a pick-up aside and
handing it over, returns, refunds and invoices as customer service and finance handle
them in the back office. Stock and money move only through those services and their
ledgers.

The services stamp everything with the current time; ``TimeMap`` (``core.demo``) notes
when each step really ran and when the script says it happened, and once the order is
done each app moves its rows of it there. This is demo-only history: nothing else in the
shop ever rewrites a record's time.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_noop

from omnimall.checkout import demo as checkout_demo
from omnimall.checkout.links import notify_url, order_return_url
from omnimall.checkout.services import carts, checkout
from omnimall.core.actors import Actor
from omnimall.core.demo import TimeMap
from omnimall.core.errors import DomainError
from omnimall.inventory import demo as inventory_demo
from omnimall.inventory.errors import InsufficientStockError
from omnimall.inventory.selectors.allocation import NEARBY_KM
from omnimall.inventory.services import fulfilment as inventory_fulfilment
from omnimall.members import demo as members_demo
from omnimall.orders import domain
from omnimall.orders import selectors as order_selectors
from omnimall.orders.models import (
    CancelReason,
    InvoiceRequest,
    InvoiceState,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderLine,
    ReturnRequest,
)
from omnimall.orders.services import (
    cancellation,
    collect_by,
    fulfilment,
    invoices,
    messages,
    payment,
    pickup,
    pickup_store,
    returns,
)
from omnimall.payments import demo as payments_demo
from omnimall.payments import selectors as payment_selectors
from omnimall.payments.gateways import sandbox, sandbox_bank

from . import people
from . import plan as script
from .shelf import Shelf

logger = logging.getLogger(__name__)

# The marker of the demo history (``already_loaded``): a staff note on each of its orders,
# never shown to the shopper, that tells staff what these orders are.
MARKER = Actor.system("load_demo_orders")
NOTE = (
    "Demo order (omnimall manage load_demo_orders): placed, paid and handled through the "
    "shop's services, then dated back to give the demo a history."
)
# Who does the work the shop's staff and partners would do.
WAREHOUSE = Actor.system("demo warehouse (WMS)")
STORE = Actor.system("demo store staff")
CARRIER = Actor.system("demo carrier")
SERVICE = Actor.system("demo customer service")
FINANCE = Actor.system("demo finance")
# The default site address of ``omnimall demo``, for the gateway's notify and return URLs
# when ``OMNIMALL_SITE_URL`` is not set (they must be absolute).
DEFAULT_SITE = "http://127.0.0.1:8000"


class SkippedError(Exception):
    """Nothing on the shelf for this order (or its stock went meanwhile): not placed."""


@dataclass(frozen=True, slots=True)
class Shopper:
    """The demo shopper's account, as checkout sees a signed-in shopper."""

    user: Any
    contact: dict[str, str]
    address: dict[str, str]


@dataclass
class _Order:
    """One order being written: its script, its choices and what the services made."""

    plan: script.OrderPlan
    rng: random.Random
    user: Any
    actor: Actor
    order_id: int = 0
    number: str = ""
    cart_token: str = ""
    return_id: int = 0
    carrier: str = ""

    def fresh(self) -> Order:
        return Order.objects.get(pk=self.order_id)


class HistoryWriter:
    def __init__(
        self,
        *,
        shelf: Shelf,
        shopper: Shopper | None,
        stores: dict[str, int],
        warehouses: list[int],
    ) -> None:
        self.shelf = shelf
        self.shopper = shopper
        self.stores = stores
        self.warehouses = warehouses
        base = settings.SITE_URL or DEFAULT_SITE
        self.notify_url = notify_url(base)
        self.return_url = order_return_url(base)
        self.steps: dict[str, Callable[[_Order], None]] = {
            script.CANCEL: self._cancel,
            script.EXPIRE: self._expire,
            script.PAY: self._pay,
            script.ACCEPT: self._accept,
            script.SHIP: self._ship,
            script.SHIP_REST: self._ship_rest,
            script.DELIVER: self._deliver,
            script.MOVE_STORE: self._move_store,
            script.PUT_ASIDE: self._put_aside,
            script.KEEP_LONGER: self._keep_longer,
            script.HAND_OVER: self._hand_over,
            script.RETURN_REQUEST: self._request_return,
            script.RETURN_APPROVE: self._approve_return,
            script.RETURN_REJECT: self._reject_return,
            script.RETURN_RECEIVE: self._receive_return,
            script.RETURN_REFUND: self._refund_return,
            script.INVOICE_REQUEST: self._request_invoice,
            script.INVOICE_ISSUE: self._issue_invoice,
        }

    def write(self, plan: script.OrderPlan) -> tuple[str, bool]:
        """Place the order and play its steps: its final state, and whether every step
        was played. A step a service refuses ends the order's story where it is (logged:
        the demo still starts). ``SkippedError`` when nothing could be placed."""
        rng = random.Random(plan.seed)  # noqa: S311 - demo data, not security
        user = self.shopper.user if plan.by_shopper and self.shopper else None
        person = None if user is not None else people.guest(rng)
        # As the storefront and the API name the shopper on what they do.
        actor = (
            Actor(kind="anonymous", label=f"shopper {person.email}"[:150])
            if person is not None
            else Actor.from_user(user)
        )
        order = _Order(plan=plan, rng=rng, user=user, actor=actor)
        timeline = TimeMap()
        timeline.mark(plan.placed_at)
        self._place(order, person)
        complete = True
        for step in plan.steps[1:]:
            timeline.mark(step.at)
            try:
                self.steps[step.action](order)
            except DomainError as refused:
                logger.warning("demo order %s: %s refused: %s", order.number, step.action, refused)
                complete = False
                break
        timeline.close()
        with transaction.atomic():
            self._backdate(order, timeline)
        return order.fresh().state, complete

    # --- placing --------------------------------------------------------------------

    def _place(self, order: _Order, person: people.Person | None) -> None:
        plan = order.plan
        location_id = self.stores[plan.store] if plan.method == "pickup" else self._warehouse(order)
        picks = self.shelf.pick(order.rng, plan.lines, location_id=location_id)
        if not picks:
            raise SkippedError
        if person is not None:
            contact = {"name": person.name, "email": person.email, "phone": person.phone}
            address = person.address
        else:
            assert self.shopper is not None  # noqa: S101 (only shoppers' plans have no person)
            contact, address = self.shopper.contact, self.shopper.address
        cart = carts.create_cart(user=order.user, referral_store_code=plan.referral)
        for pick in picks:
            carts.add_line(
                token=cart.token, user=order.user, quantity=pick.quantity, sku_id=pick.sku_id
            )
        try:
            placed = checkout.checkout_cart(
                cart_token=cart.token,
                user=order.user,
                contact=contact,
                method=plan.method,
                address=address if plan.method == "ship" else None,
                store=plan.store or None,
                notify_url=self.notify_url,
                return_url=self.return_url,
                invoice=self._invoice_details(order, contact),
                note=people.shopper_note(plan.seed),
            )
        except InsufficientStockError as short:
            raise SkippedError from short
        finally:
            self.shelf.refresh([pick.sku_id for pick in picks])
        order.order_id, order.number, order.cart_token = placed.order_id, placed.number, cart.token
        messages.add_staff_note(order_id=placed.order_id, text=NOTE, actor=MARKER)

    def _warehouse(self, order: _Order) -> int:
        """The warehouse whose stock a delivery is chosen from (mostly the first)."""
        if len(self.warehouses) > 1 and order.rng.random() < 0.25:
            return self.warehouses[1]
        return self.warehouses[0]

    def _invoice_details(self, order: _Order, contact: dict[str, str]) -> dict[str, str] | None:
        if order.plan.invoice == "company":
            return people.company_invoice(order.rng, email=contact["email"])
        if order.plan.invoice == "personal":
            return {"kind": "personal", "title": "", "tax_id": "", "email": ""}
        return None

    # --- unpaid ---------------------------------------------------------------------

    def _cancel(self, order: _Order) -> None:
        cancellation.cancel_order(
            order_id=order.order_id,
            actor=order.actor,
            reason=gettext_noop("cancelled by the shopper"),
            by_shopper=True,
            why=people.cancel_reason(order.plan.seed),
        )

    def _expire(self, order: _Order) -> None:
        # What the sweep (``expire_unpaid_orders``) does to an order whose hold ran out.
        cancellation.cancel_order(
            order_id=order.order_id,
            actor=cancellation.SYSTEM,
            reason="payment timed out",
            by_shopper=False,
            why=CancelReason.NOT_PAID,
        )

    # --- paying ---------------------------------------------------------------------

    def _pay(self, order: _Order) -> None:
        """The shopper pays on the sandbox bank's page; the bank's signed notification is
        settled as the notification endpoint settles it; then the allocation, as the
        worker runs it (done already, inline, when there is no broker)."""
        started = payment_selectors.list_payments_of_order(order.order_id)[-1]
        sandbox_bank.pay_trade(started.trade_no)
        params = sandbox.notification_for(started.out_trade_no)
        if not payment.settle_notification(gateway="sandbox", params=params, remote_addr=None):
            raise RuntimeError(f"the sandbox notification for {order.number} was rejected")
        fulfilment.allocate_order(order_id=order.order_id)

    # --- delivery -------------------------------------------------------------------

    def _accept(self, order: _Order) -> None:
        for request_id in fulfilment.live_requests(order.fresh()):
            inventory_fulfilment.accept_fulfilment_request(request_id=request_id, actor=WAREHOUSE)

    def _ship_requests(self, order: _Order, *, first_only: bool) -> None:
        requests = fulfilment.live_requests(order.fresh())
        order.carrier = order.carrier or people.carrier(order.rng)
        for request_id in requests[:1] if first_only else requests:
            inventory_fulfilment.record_shipment(
                request_id=request_id,
                carrier=order.carrier,
                tracking_number=people.tracking_number(order.rng, order.carrier),
                actor=WAREHOUSE,
            )

    def _ship(self, order: _Order) -> None:
        self._ship_requests(order, first_only=True)

    def _ship_rest(self, order: _Order) -> None:
        self._ship_requests(order, first_only=False)

    def _deliver(self, order: _Order) -> None:
        if order.fresh().state == domain.SHIPPED:
            fulfilment.confirm_delivery(order_id=order.order_id, actor=CARRIER)

    # --- pick-up --------------------------------------------------------------------

    def _move_store(self, order: _Order) -> None:
        """The shopper picks the nearest other store that holds it all, when it is nearby
        (else the order stays where it is)."""
        view = order_selectors.get_order_by_id(order.order_id)
        others = order_selectors.list_other_pickup_stores(view)
        near = others[0].distance_km if others else None
        if near is not None and near <= NEARBY_KM:
            pickup_store.change_pickup_store(
                order_id=order.order_id, store=others[0].store.code, actor=order.actor
            )

    def _put_aside(self, order: _Order) -> None:
        pickup.mark_ready_for_pickup(order_id=order.order_id, actor=STORE)

    def _keep_longer(self, order: _Order) -> None:
        collect_by.keep_longer(order_id=order.order_id, actor=order.actor)

    def _hand_over(self, order: _Order) -> None:
        current = order.fresh()
        if current.pickup_store_id is not None:
            pickup.hand_over(
                store_id=current.pickup_store_id, code=current.pickup_code, actor=STORE
            )

    # --- returns --------------------------------------------------------------------

    def _request_return(self, order: _Order) -> None:
        lines = list(OrderLine.objects.filter(order_id=order.order_id).order_by("pk"))
        if order.rng.random() < 0.7:  # one unit of one line; else everything
            line = order.rng.choice(lines)
            wanted = [(line.pk, 1)]
        else:
            wanted = [(line.pk, line.quantity) for line in lines]
        request = returns.request_return(
            order_id=order.order_id,
            lines=wanted,
            reason=order.rng.choice(people.RETURN_REASONS),
            actor=order.actor,
        )
        order.return_id = request.pk

    def _approve_return(self, order: _Order) -> None:
        returns.approve_return(return_id=order.return_id, actor=SERVICE)

    def _reject_return(self, order: _Order) -> None:
        returns.reject_return(return_id=order.return_id, reason=people.REJECTION, actor=SERVICE)

    def _receive_return(self, order: _Order) -> None:
        # Back to the location that shipped it.
        location_id = (
            OrderAllocation.objects.filter(line__order_id=order.order_id, is_live=True)
            .order_by("pk")
            .values_list("location_id", flat=True)
            .first()
        )
        if location_id is None:
            location_id = self.warehouses[0]
        returns.receive_return(return_id=order.return_id, location_id=location_id, actor=WAREHOUSE)

    def _refund_return(self, order: _Order) -> None:
        returns.refund_return(return_id=order.return_id, actor=SERVICE)

    # --- invoices -------------------------------------------------------------------

    def _request_invoice(self, order: _Order) -> None:
        current = order.fresh()
        if not domain.may_have_invoice(current.state):
            return
        details = invoices.clean_invoice(
            kind="personal",
            title="",
            tax_id="",
            email="",
            contact_name=current.contact_name,
            contact_email=current.email,
        )
        invoices.request_invoice(order_id=order.order_id, details=details, actor=order.actor)

    def _issue_invoice(self, order: _Order) -> None:
        current = order.fresh()
        asked = InvoiceRequest.objects.filter(
            order_id=order.order_id, state=InvoiceState.REQUESTED
        ).exists()
        if (
            not asked
            or not domain.may_issue_invoice(current.state)
            or current.amount_paid <= current.amount_refunded
        ):
            return
        invoices.issue_invoice(
            order_id=order.order_id,
            invoice_number=people.invoice_number(order.rng, year=order.plan.placed_at.year),
            pdf_url="",
            actor=FINANCE,
        )

    # --- dating it back -------------------------------------------------------------

    def _backdate(self, order: _Order, timeline: TimeMap) -> None:
        """Every row of this order's history moved to when the script says it happened
        (each app moves its own). Demo-only: see the module docstring."""
        timeline.shift(
            Order.objects.filter(pk=order.order_id),
            *("placed_at", "paid_at", "ready_at", "pickup_extended_at", "closed_at"),
            "updated_at",
            ahead="reserved_until",  # set at placement, a hold's length ahead
        )
        # A pick-up's deadline follows from when it was put aside, not from its step.
        ready = Order.objects.filter(pk=order.order_id, ready_at__isnull=False)
        days = settings.PICKUP_UNCOLLECTED_DAYS
        ready.filter(pickup_extended_at=None).update(collect_by=F("ready_at") + timedelta(days))
        ready.exclude(pickup_extended_at=None).update(
            collect_by=F("ready_at") + timedelta(days + settings.PICKUP_EXTENSION_DAYS)
        )
        timeline.shift(OrderEvent.objects.filter(order_id=order.order_id), "created_at")
        timeline.shift(
            ReturnRequest.objects.filter(order_id=order.order_id), "created_at", "updated_at"
        )
        timeline.shift(
            InvoiceRequest.objects.filter(order_id=order.order_id), "requested_at", "issued_at"
        )
        payments_demo.backdate_payments_of_order(order_id=order.order_id, timeline=timeline)
        inventory_demo.backdate_fulfilment(
            owner_type="order", owner_id=order.number, timeline=timeline
        )
        members_demo.backdate_order_points(document=order.number, timeline=timeline)
        checkout_demo.backdate_cart(token=order.cart_token, timeline=timeline)
