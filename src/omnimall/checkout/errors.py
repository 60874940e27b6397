"""Why a cart or checkout request was refused. ``core.api.errors`` makes JSON 4xx of them."""

from __future__ import annotations

from omnimall.core.errors import (
    ConflictError,
    NotFoundError,
    TooManyRequestsError,
    ValidationFailedError,
)


class CartNotFoundError(NotFoundError):
    """Unknown token, or a cart that belongs to someone else (never 403: no oracle)."""

    code = "cart_not_found"
    message = "No such cart."


class CartLineNotFoundError(NotFoundError):
    code = "cart_line_not_found"
    message = "No such line in this cart."


class CartClosedError(ConflictError):
    code = "cart_closed"
    message = "This cart was checked out or merged; it cannot change any more."


class QuantityOutOfRangeError(ValidationFailedError):
    code = "quantity_out_of_range"
    message = "A line's quantity is a whole number from 1 to 20."


class TooManyLinesError(ValidationFailedError):
    code = "too_many_lines"
    message = "This cart holds the most lines it may."


class SkuNotFoundError(NotFoundError):
    code = "unknown_sku"
    message = "No such SKU."


class SkuUnavailableError(ValidationFailedError):
    code = "sku_unavailable"
    message = "This item is not for sale now."


class EmptyCartError(ValidationFailedError):
    code = "cart_empty"
    message = "The cart has no lines to check out."


class UnavailableLinesError(ConflictError):
    code = "cart_has_unavailable_lines"
    message = "Some lines cannot be bought now; remove them and try again."


class InvalidCheckoutError(ValidationFailedError):
    code = "invalid_checkout"
    message = "The checkout details are not valid."


class AddressNotFoundError(NotFoundError):
    code = "address_not_found"
    message = "No such address."


class TooManyUnpaidOrdersError(ConflictError):
    code = "too_many_unpaid_orders"
    message = (
        "This shopper already has the most orders awaiting payment one may have; pay or "
        "cancel one of them first."
    )


class TooManyCheckoutsError(TooManyRequestsError):
    code = "too_many_checkouts"
    message = "Too many checkouts from this address just now. Wait a few minutes and try again."


class NoDeliveryToRegionError(ValidationFailedError):
    """The ship-to province is in a shipping zone the shop does not deliver to."""

    code = "no_delivery_to_region"
    message = (
        "The shop does not deliver to this province or region; choose another address "
        "or pick up in store."
    )


class InvalidShippingZoneError(ValidationFailedError):
    code = "invalid_shipping_zone"
    message = "The shipping zone is not valid."


class ProvinceInOtherZoneError(ValidationFailedError):
    """A province may be in one shipping zone at most (``details.provinces``: code → the
    zone that holds it)."""

    code = "province_in_other_zone"
    message = "A province is already in another shipping zone."
