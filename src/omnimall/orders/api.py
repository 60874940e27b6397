"""Store API routes of the orders app (mounted in omnimall.api at ``/api/v1/orders``).

``GET /{number}``: the order, for its signed-in owner (an app's bearer token or the
browser session: ``core.api.auth.signed_in_shopper``) or whoever holds its guest token
(``?token=``); anyone else gets the same 404 as for a missing order.
``POST /{number}/cancel``: the shopper cancels an order no one is preparing yet; a guest's
body carries the order's guest token (returned by checkout), a secret a cross-site form
cannot know. ``POST /{number}/received``: the shopper confirms a shipped order arrived.
``POST /{number}/keep-longer``: the shopper keeps a pick-up waiting at its store a few days
longer, once. ``POST /{number}/delivery``: a carrier, WMS or store integration (API key,
scope ``wms`` or ``store``) confirms delivery of a shipped order; confirming again is a
no-op 200. A key
bound to a location confirms only orders with a shipment from a location it may act for
(the inventory API's rule, ``LocationAccess.for_key``; a store ships its own parcels);
anything else is 403. An unbound ``wms`` key (a carrier's) confirms any order.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_noop
from ninja import Field, Query, Router, Schema, Status

from omnimall.checkout import links
from omnimall.checkout.schemas import (
    AddressIn,
    PickupStoreOut,
    PickupStoresQuery,
    pickup_stores_out,
)
from omnimall.core import throttle
from omnimall.core.actors import Actor
from omnimall.core.api.auth import (
    ApiKeyAuth,
    NotSignedInError,
    actor_from,
    api_key_of,
    signed_in_shopper,
)
from omnimall.core.api.errors import ERRORS, ErrorOut
from omnimall.core.api.schemas import StrictIn
from omnimall.core.errors import PermissionDeniedError
from omnimall.inventory.selectors.fulfilment import LocationAccess
from omnimall.orders import selectors
from omnimall.orders.models import SHOPPER_CANCEL_REASONS
from omnimall.orders.schemas import (
    CancelIn,
    CancelReasonOut,
    ConfirmReceiptIn,
    DeliveryIn,
    GuestToken,
    InvoiceRequestIn,
    OrderListOut,
    OrderListQuery,
    OrderLookupIn,
    OrderLookupOut,
    OrderOut,
    OrderReturnIn,
    OrderStateOut,
    PayAgainIn,
    PaymentStartedOut,
    order_out,
)
from omnimall.orders.selectors import OrderView, lookup
from omnimall.orders.services import (
    cancellation,
    collect_by,
    collector,
    fulfilment,
    invoices,
    pickup_store,
    readdress,
    receipt,
    refunds,
    returns,
)
from omnimall.orders.services import payment as order_payment

router = Router(tags=["orders"])


def _require_shipped_from_key_location(request: HttpRequest, *, order_id: int) -> None:
    """A bound key acts for its own location only: the order must have left from there."""
    key = api_key_of(request)
    if not key.bound_to.strip() and "wms" in key.scopes:
        return  # a carrier's key
    access = LocationAccess.for_key(scopes=key.scopes, bound_to=key.bound_to)
    origins = selectors.list_shipment_locations(order_id=order_id)
    if not any(access.allows(code=code, kind=kind) for code, kind in origins):
        raise PermissionDeniedError(
            "This API key may not act for this order: nothing of it shipped from the key's "
            "location.",
            bound_to=key.bound_to,
        )


@router.get("", response={200: OrderListOut, **ERRORS}, summary="The signed-in shopper's orders")
def list_orders(request: HttpRequest, query: Query[OrderListQuery]) -> dict[str, Any]:
    """Order history, newest first, 10 a page (a page past the last gives the last), all
    orders or one tab's (``show``: ``to_pay``, ``preparing``, ``to_receive``,
    ``after_sales``), with every tab's count: for a signed-in shopper (an app's bearer token
    or the browser session); 401 ``not_signed_in`` without one. A guest's orders are read
    one by one with their tokens."""
    user = signed_in_shopper(request)
    if user is None:
        raise NotSignedInError
    page = selectors.list_orders_for_user(
        user=user, page=query.page, show=query.show, query=query.q
    )
    return {
        "results": [asdict(order) for order in page.results],
        "page": page.page,
        "pages": page.pages,
        "total": page.total,
        "show": query.show,
        "counts": selectors.count_orders_by_tab(user=user),
    }


@router.post(
    "/lookup",
    response={200: OrderLookupOut, **ERRORS, 429: ErrorOut},
    summary="Find a guest's order: its number and the email or mobile given at checkout",
)
def lookup_order(request: HttpRequest, payload: OrderLookupIn) -> OrderLookupOut:
    """The order's guest token when ``contact`` is the order's email address or mobile
    number; 404 ``unknown_order`` otherwise (the same as an unknown number); 429
    ``too_many_attempts`` after 10 failures for the number or from the client address
    in 15 minutes."""
    token = lookup.find_guest_token(
        number=payload.number, contact=payload.contact, client=throttle.client_of(request)
    )
    return OrderLookupOut(number=selectors.clean_number(payload.number), token=token)


@router.get(
    "/cancel-reasons",
    response={200: list[CancelReasonOut]},
    summary="The reasons a shopper may give for cancelling",
)
def cancel_reasons(request: HttpRequest) -> list[dict[str, str]]:
    """What ``why`` in ``POST /orders/{number}/cancel`` may be, each with its label in the
    request's language (``Accept-Language``), in the order the shop's own page lists them."""
    return [{"code": reason.value, "label": str(reason.label)} for reason in SHOPPER_CANCEL_REASONS]


@router.get("/{number}", response={200: OrderOut, **ERRORS}, summary="Get an order")
def get_order(request: HttpRequest, number: str, token: str | None = None) -> dict[str, Any]:
    """The order with its lines, shipments, timeline and payments (owner or guest token)."""
    view = selectors.get_order_for_viewer(
        number=number, user=signed_in_shopper(request), guest_token=token
    )
    return order_out(view)


@router.post(
    "/{number}/delivery",
    auth=ApiKeyAuth("wms", "store"),
    response={200: OrderStateOut, **ERRORS},
    summary="Confirm delivery",
)
def confirm_delivery(
    request: HttpRequest, number: str, payload: DeliveryIn | None = None
) -> dict[str, Any]:
    """The shipped order reached the shopper (``shipped`` → ``delivered``); idempotent.

    A key bound to a location (``bound_to``) may confirm only orders with a shipment from
    a location it acts for (403 ``forbidden`` otherwise)."""
    order_id = selectors.require_order_id(number)
    _require_shipped_from_key_location(request, order_id=order_id)
    order = fulfilment.confirm_delivery(
        order_id=order_id, actor=actor_from(request), note=payload.note if payload else ""
    )
    return {"number": order.number, "state": order.state}


def _shopper_order(request: HttpRequest, number: str, token: str | None) -> tuple[OrderView, Actor]:
    """The order this shopper may see (the signed-in owner, or the guest token's holder;
    anyone else 404) and the shopper, signed in or the guest known by the order's email,
    as the actor of what they do to it."""
    user = signed_in_shopper(request)
    view = selectors.get_order_for_viewer(number=number, user=user, guest_token=token)
    if user is not None:
        return view, Actor.from_user(user)
    return view, Actor(kind="anonymous", label=f"shopper {view.email}"[:150])


@router.post(
    "/{number}/cancel",
    response={200: OrderOut, **ERRORS},
    summary="Cancel an order not yet being prepared",
)
def cancel_order(request: HttpRequest, number: str, payload: CancelIn) -> dict[str, Any]:
    """While unpaid, and once paid until a warehouse or store takes it on (a full refund
    follows; ``can_cancel`` on the order says whether it may). 409 ``order_being_prepared``
    once taken on, ``order_state`` in any other state, ``order_paid`` when an unpaid
    order's payment went through meanwhile (it is then settled, not cancelled). Holds are
    released. The guest token, or the signed-in owner, shows the order; anyone else 404."""
    view, actor = _shopper_order(request, number, payload.token)
    cancellation.cancel_order(
        order_id=view.id,
        actor=actor,
        reason=payload.reason or gettext_noop("cancelled by the shopper"),
        by_shopper=True,
        why=payload.why or "",
    )
    return order_out(selectors.get_order_by_id(view.id))


class ChangeAddressIn(StrictIn):
    # Here, not in ``orders.schemas``: checkout's schemas import that module.
    token: GuestToken = None
    address: AddressIn = Field(..., description="The new delivery address, as at checkout")


@router.post(
    "/{number}/address",
    response={200: OrderOut, **ERRORS},
    summary="Change the delivery address before the order is taken on",
)
def change_address(request: HttpRequest, number: str, payload: ChangeAddressIn) -> dict[str, Any]:
    """A new delivery address (修改收货地址) while the order awaits payment or is paid, until a
    warehouse or store takes it on: 409 ``order_being_prepared`` after that,
    ``address_not_changeable`` for a pick-up or an order on its way, ``delivery_fee_differs``
    where delivery there costs more than the fee charged, or another fee for an unpaid
    order (costing less, a paid order is refunded the difference); 422 ``invalid_address``
    (per field in ``details.errors``) or ``no_delivery_to_region``. The guest token, or the
    signed-in owner, shows the order; anyone else gets 404."""
    view, actor = _shopper_order(request, number, payload.token)
    readdress.change_ship_to(
        order_id=view.id,
        address=payload.address.model_dump(),
        actor=actor,
    )
    return order_out(selectors.get_order_by_id(view.id))


class OrderStoresQuery(PickupStoresQuery):
    token: GuestToken = None


@router.get(
    "/{number}/pickup-stores",
    response={200: list[PickupStoreOut], **ERRORS},
    summary="Stores a pick-up order could move to, nearest to the city first",
)
def list_other_pickup_stores(
    request: HttpRequest, number: str, query: Query[OrderStoresQuery]
) -> list[PickupStoreOut]:
    """The pick-up stores, other than the order's own, that hold all of the order now;
    nearest to ``city`` first, else to the order's store. Empty when none does, or when
    the order's store can no longer change (``can_change_store`` on the order)."""
    view = selectors.get_order_for_viewer(
        number=number, user=signed_in_shopper(request), guest_token=query.token
    )
    if not view.can_change_store:
        return []
    return pickup_stores_out(selectors.list_other_pickup_stores(view, city=query.city or None))


class ChangeStoreIn(StrictIn):
    token: GuestToken = None
    store: str = Field(..., max_length=40, description="The new pick-up store's code")


@router.post(
    "/{number}/pickup-store",
    response={200: OrderOut, **ERRORS},
    summary="Pick the order up at another store, before its store puts it aside",
)
def change_pickup_store(
    request: HttpRequest, number: str, payload: ChangeStoreIn
) -> dict[str, Any]:
    """更换自提门店 while the order awaits payment, is paid or allocated, until its store puts it
    aside: 409 ``order_being_prepared`` after that, ``pickup_store_not_changeable`` for a
    delivery or an order past it, ``out_of_stock`` when the store does not hold all of the
    order, ``hold_expired`` for an unpaid order whose time to pay is over; 422
    ``invalid_store`` for a code that is not a pick-up store. The pick-up code stays; the
    shopper gets an email. The guest token, or the signed-in owner, shows the order; anyone
    else gets 404."""
    view, actor = _shopper_order(request, number, payload.token)
    pickup_store.change_pickup_store(order_id=view.id, store=payload.store, actor=actor)
    return order_out(selectors.get_order_by_id(view.id))


class KeepLongerIn(StrictIn):
    token: GuestToken = None


@router.post(
    "/{number}/keep-longer",
    response={200: OrderOut, **ERRORS},
    summary="Keep a pick-up waiting at its store a few days longer",
)
def keep_longer(request: HttpRequest, number: str, payload: KeepLongerIn) -> dict[str, Any]:
    """延长取货: a pick-up waiting at its store (``ready_for_pickup``) is kept
    ``PICKUP_EXTENSION_DAYS`` longer, once (``can_keep_longer`` on the order; the new
    deadline is ``collect_by``). Asked again: 200, nothing changes. 409
    ``pickup_not_extendable`` when it is not waiting at its store, its deadline has passed,
    or the shop leaves this to its stores (``details.reason``: ``not_waiting`` / ``off``).
    The shopper gets an email with the new deadline. The guest token, or the signed-in
    owner, shows the order; anyone else gets 404."""
    view, actor = _shopper_order(request, number, payload.token)
    collect_by.keep_longer(order_id=view.id, actor=actor)
    return order_out(selectors.get_order_by_id(view.id))


class CollectorIn(StrictIn):
    token: GuestToken = None
    name: str = Field(..., min_length=1, max_length=collector.NAME_MAX_LENGTH)
    phone: str = Field(..., min_length=1, max_length=20, description="A mainland mobile")


@router.post(
    "/{number}/collector",
    response={200: OrderOut, **ERRORS},
    summary="Send someone else to collect a pick-up",
)
def set_collector(request: HttpRequest, number: str, payload: CollectorIn) -> dict[str, Any]:
    """代取: ``name`` collects the pick-up; the pick-up desk shows them, and ``phone`` (a
    mainland mobile) is texted the store, the code and the deadline once the order is put
    aside. Until it is handed over (``can_set_collector``): 409 ``collector_not_settable``
    after; 422 ``invalid_collector`` (per field in ``details.errors``). The same person
    again: 200, nothing changes. The guest token, or the signed-in owner, shows the order;
    anyone else gets 404."""
    view, actor = _shopper_order(request, number, payload.token)
    collector.set_collector(
        order_id=view.id,
        name=payload.name,
        phone=payload.phone,
        actor=actor,
    )
    return order_out(selectors.get_order_by_id(view.id))


class CollectorOffIn(StrictIn):
    token: GuestToken = None


@router.post(
    "/{number}/collector/remove",
    response={200: OrderOut, **ERRORS},
    summary="Collect a pick-up yourself after all",
)
def clear_collector(request: HttpRequest, number: str, payload: CollectorOffIn) -> dict[str, Any]:
    """Nobody else collects the pick-up any more (200 also when nobody did); 409
    ``collector_not_settable`` once it is handed over. The guest token, or the signed-in
    owner, shows the order; anyone else gets 404."""
    view, actor = _shopper_order(request, number, payload.token)
    collector.clear_collector(order_id=view.id, actor=actor)
    return order_out(selectors.get_order_by_id(view.id))


class RefundIn(StrictIn):
    amount: Decimal = Field(
        ..., gt=0, max_digits=12, decimal_places=2, description="Money back, in whole cents"
    )
    reason: str = Field(
        ...,
        min_length=1,
        max_length=refunds.MAX_REASON,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Shown to the shopper in the refund email",
    )
    refund_no: str = Field(
        ...,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Your number for this refund: the same number again refunds once",
    )


class RefundOut(Schema):
    number: str
    refund_no: str
    amount: Decimal
    amount_refunded: Decimal = Field(description="The order's refunds so far, this one included")
    state: str
    replayed: bool = Field(description="True when this refund number was refunded before")


@router.post(
    "/{number}/refunds",
    auth=ApiKeyAuth("refunds"),
    response={200: RefundOut, 201: RefundOut, **ERRORS},
    summary="Refund part of an order (a customer service system)",
)
def refund_order(request: HttpRequest, number: str, payload: RefundIn) -> Status[RefundOut]:
    """Money back outside a cancellation or a return (goodwill, a damaged item kept), for a
    customer service or ERP system holding a key with the scope ``refunds``: 201, or 200
    with ``replayed`` for a ``refund_no`` already refunded (the same amount). 409
    ``refund_exceeds_paid`` past what is left, ``refund_no_reused`` for a number used with
    another amount, ``refund_failed`` when the gateway refuses; 404 ``unknown_order``."""
    done = refunds.refund_order(
        order_id=selectors.require_order_id(number),
        amount=payload.amount,
        reason=payload.reason,
        actor=actor_from(request),
        refund_no=payload.refund_no,
    )
    out = RefundOut(
        number=done.number,
        refund_no=done.refund_no,
        amount=done.amount,
        amount_refunded=done.amount_refunded,
        state=done.state,
        replayed=done.replayed,
    )
    return Status(200 if done.replayed else 201, out)


@router.post(
    "/{number}/received",
    response={200: OrderOut, **ERRORS},
    summary="Confirm receipt: the shipped order arrived",
)
def confirm_receipt(request: HttpRequest, number: str, payload: ConfirmReceiptIn) -> dict[str, Any]:
    """The shopper says everything arrived (确认收货): ``shipped`` → ``delivered``, the
    return window starts. Again on a delivered order: 200, nothing changes; 409
    ``order_state`` before everything has shipped. The guest token, or the signed-in
    owner, shows the order; anyone else gets 404."""
    view, actor = _shopper_order(request, number, payload.token)
    receipt.confirm_receipt(order_id=view.id, actor=actor)
    return order_out(selectors.get_order_by_id(view.id))


@router.post(
    "/{number}/pay",
    response={201: PaymentStartedOut, **ERRORS},
    summary="Pay again: a fresh payment_url for an unpaid order",
)
def pay_again(request: HttpRequest, number: str, payload: PayAgainIn) -> Status[dict[str, Any]]:
    """After a declined or abandoned payment, while the order is unpaid and its stock still
    held: the open payment is closed and a new one started (409 ``hold_expired`` once the
    hold lapsed, ``order_paid`` if the gateway says the last one went through meanwhile,
    ``order_state`` for an order no longer unpaid). The guest token, or the signed-in
    owner (app token, or session with the CSRF header), shows the order; anyone else gets 404."""
    view = selectors.get_order_for_viewer(
        number=number, user=signed_in_shopper(request), guest_token=payload.token
    )
    base = (settings.SITE_URL or request.build_absolute_uri("/")).rstrip("/")
    if payload.token:  # the gateway sends the shopper back to the order page
        back = links.order_url(number=view.number, guest_token=payload.token)
    else:
        back = links.order_path_template().replace("{number}", view.number)
    payment_url = order_payment.restart_payment(
        order_id=view.id, notify_url=links.notify_url(base), return_url=base + back
    )
    if payment_url.startswith("/"):
        payment_url = base + payment_url
    order = selectors.get_order_by_id(view.id)
    return Status(
        201,
        {
            "number": order.number,
            "payment_url": payment_url,
            "amount_due": order.amount_due,
            "currency": order.currency,
            "reserved_until": order.reserved_until,
        },
    )


@router.post(
    "/{number}/returns",
    response={201: OrderOut, **ERRORS},
    summary="Request a return of some units of a delivered or picked-up order",
)
def request_return(
    request: HttpRequest, number: str, payload: OrderReturnIn
) -> Status[dict[str, Any]]:
    """Lines are the order's line ids (``lines[].id``) with the units to send back, each at
    most once; 409 ``return_not_allowed`` unless the order was handed over within the return
    window (``can_request_return``), 422 ``invalid_return`` for a line of another order or
    more units than are left. Answers the order with the new return in ``returns``. The
    guest token, or the signed-in owner (app token, or session with the CSRF header),
    shows the order; anyone else gets 404."""
    view, actor = _shopper_order(request, number, payload.token)
    returns.request_return(
        order_id=view.id,
        lines=[(line.line_id, line.quantity) for line in payload.lines],
        reason=payload.reason,
        actor=actor,
    )
    return Status(201, order_out(selectors.get_order_by_id(view.id)))


@router.post(
    "/{number}/invoice-request",
    response={200: OrderOut, **ERRORS},
    summary="Ask for an invoice (fapiao), or correct the request before it is issued",
)
def request_invoice(request: HttpRequest, number: str, payload: InvoiceRequestIn) -> dict[str, Any]:
    """A personal invoice's title defaults to the order's contact name and the email to the
    order's; a company invoice needs a valid taxpayer ID (422 ``invalid_invoice``, per field
    in ``details.errors``). 409 ``invoice_not_allowed`` for a cancelled or wholly refunded
    order, ``invoice_issued`` once issued. The guest token, or the signed-in owner, shows
    the order; anyone else gets 404."""
    view, actor = _shopper_order(request, number, payload.token)
    details = invoices.clean_invoice(
        kind=payload.kind,
        title=payload.title,
        tax_id=payload.tax_id,
        email=payload.email,
        contact_name=view.contact_name,
        contact_email=view.email,
    )
    invoices.request_invoice(order_id=view.id, details=details, actor=actor)
    return order_out(selectors.get_order_by_id(view.id))
