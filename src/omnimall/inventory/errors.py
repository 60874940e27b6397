"""Why a stock write was refused. ``core.api.errors`` turns these into JSON 4xx bodies."""

from __future__ import annotations

from collections.abc import Sequence

from omnimall.core.errors import ConflictError, DomainError, NotFoundError, ValidationFailedError

from .domain import Shortage


class InsufficientStockError(DomainError):
    code = "out_of_stock"
    status = 409
    message = "Not enough stock."

    def __init__(self, shortages: Sequence[Shortage]) -> None:
        self.shortages = tuple(shortages)
        super().__init__(None, shortages=[s.as_dict() for s in self.shortages])


class InvalidQuantityError(ValidationFailedError):
    code = "invalid_quantity"
    message = "The quantity is not valid for this operation."


class ReasonRequiredError(ValidationFailedError):
    code = "reason_required"
    message = "A stock adjustment needs a reason."


class StockLocationNotFoundError(NotFoundError):
    code = "unknown_location"
    message = "No such stock location."


class SkuNotFoundError(NotFoundError):
    code = "unknown_sku"
    message = "No such SKU."


class ReservationNotFoundError(NotFoundError):
    code = "unknown_reservation"
    message = "No such reservation."


class ReservationStateError(ConflictError):
    code = "reservation_state"
    message = "The reservation is not held any more."


class ReservationExpiredError(ConflictError):
    code = "reservation_expired"
    message = "The reservation has expired; its units are no longer held."


class AdjustmentBelowReservedError(ConflictError):
    code = "adjustment_below_reserved"
    message = "The adjustment would leave fewer units on hand than are reserved."


class StockLedgerError(RuntimeError):
    """A counter disagrees with the ledger: a bug or a hand-edited row, never user input."""


class UnknownChannelError(NotFoundError):
    code = "unknown_channel"
    message = "No such sales channel."


class InvalidTransferError(ValidationFailedError):
    code = "invalid_transfer"
    message = "The transfer is not valid."


class TransferNotFoundError(NotFoundError):
    code = "unknown_transfer"
    message = "No such transfer."


class TransferStateError(ConflictError):
    code = "transfer_state"
    message = "The transfer cannot make that change in its current state."


class StockLevelNotFoundError(NotFoundError):
    code = "unknown_stock_level"
    message = "No such stock level."
