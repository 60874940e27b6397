"""Refusals of the orders app; the API maps each to its status and code."""

from __future__ import annotations

from omnimall.core.errors import ConflictError, NotFoundError, ValidationFailedError


class OrderNotFoundError(NotFoundError):
    """Also what another shopper's order looks like: never 403, so ids leak nothing."""

    code = "unknown_order"
    message = "No such order."


class OrderTransitionError(ConflictError):
    code = "order_state"
    message = "The order does not allow this in its current state."


class OrderAlreadyPaidError(OrderTransitionError):
    code = "order_paid"
    message = "The order has just been paid and can no longer be cancelled here."


class OrderBeingPreparedError(OrderTransitionError):
    """``details.requests``: the fulfilment requests a location has taken on."""

    code = "order_being_prepared"
    message = (
        "A warehouse or store has started preparing this order: it can no longer be cancelled "
        "here. Refuse the parcel, or request a return once it arrives."
    )


class PaymentHoldExpiredError(OrderTransitionError):
    code = "hold_expired"
    message = "The stock is no longer held for this order: check out again."


class ReturnNotAllowedError(ConflictError):
    code = "return_not_allowed"
    message = "This order cannot be returned."


class InvalidReturnError(ValidationFailedError):
    code = "invalid_return"
    message = "The return is not valid."


class NothingPutAsideError(OrderTransitionError):
    code = "nothing_put_aside"
    message = (
        "Nothing is held for this order at its store (the store refused the items and no "
        "other location could take them): it needs staff attention, not a hand-over."
    )


class PickupCodeError(NotFoundError):
    code = "unknown_pickup_code"
    message = "No order awaits pick-up with this code at this store."


class InvalidInvoiceError(ValidationFailedError):
    """Per field in ``details.errors`` (``kind``, ``title``, ``tax_id``, ``email``)."""

    code = "invalid_invoice"
    message = "The invoice details are not valid."


class InvoiceNotAllowedError(ConflictError):
    code = "invoice_not_allowed"
    message = "This order cannot have an invoice (cancelled, fully refunded, or not paid)."


class InvoiceIssuedError(ConflictError):
    code = "invoice_issued"
    message = "The invoice for this order has already been issued."


class InvoiceNotFoundError(NotFoundError):
    code = "invoice_not_requested"
    message = "No invoice was requested for this order."


class AddressNotChangeableError(OrderTransitionError):
    code = "address_not_changeable"
    message = (
        "This order's delivery address can no longer change: it is picked up in store, on "
        "its way, or closed."
    )


class PickupStoreNotChangeableError(OrderTransitionError):
    code = "pickup_store_not_changeable"
    message = (
        "This order's pick-up store can no longer change: it is delivered, put aside at its "
        "store, or closed."
    )


class InvalidPickupStoreError(ValidationFailedError):
    """``details.store``: what was asked for."""

    code = "invalid_store"
    message = "No store offers pick-up under this code."


class PickupNotKeptLongerError(OrderTransitionError):
    """``details.reason``: ``not_waiting`` (not put aside, collected, cancelled, or past its
    deadline) or ``off`` (the shop lets only the store keep pick-ups longer)."""

    code = "pickup_not_extendable"
    message = "This pick-up cannot be kept longer: it is not waiting at its store."


class InvalidCollectByError(ValidationFailedError):
    """``details``: ``collect_by`` (now) and ``latest`` (the furthest day allowed)."""

    code = "invalid_collect_by"
    message = "Keep a pick-up until a later day than now, and not more than 30 days ahead."


class InvalidCollectorError(ValidationFailedError):
    """``details.errors``: ``{field: problem}`` for ``name`` and ``phone``."""

    code = "invalid_collector"
    message = "Give the name and mainland mobile number of whoever collects the order."


class CollectorNotSettableError(OrderTransitionError):
    code = "collector_not_settable"
    message = "Only a pick-up not yet collected can be collected by someone else."


class InvalidCancelReasonError(ValidationFailedError):
    """``details.allowed``: the reasons that may be given."""

    code = "invalid_cancel_reason"
    message = "That is not one of the reasons for cancelling."


class InvalidShipToError(ValidationFailedError):
    """``details.errors``: ``{field: problem}``, as checkout gives them."""

    code = "invalid_address"
    message = "The address is not valid."


class DeliveryFeeDiffersError(ConflictError):
    """``details``: ``charged`` (the order's delivery fee) and ``fee`` (the new address's)."""

    code = "delivery_fee_differs"
    message = (
        "Delivery to this address costs a different fee from the one paid. Cancel the order "
        "and order again to that address."
    )
