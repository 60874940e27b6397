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
        super().__init__(None, shortages=_described(self.shortages))


def _described(shortages: tuple[Shortage, ...]) -> list[dict[str, object]]:
    """Each shortage with the SKU's and the location's codes beside their ids: the codes are
    what an app or a WMS knows. Two small reads, on the refusal's path only; a database that
    cannot answer (a failed transaction) leaves the ids alone."""
    from django.db import DatabaseError

    from omnimall.catalog.models import Sku

    from .models import StockLocation

    rows: list[dict[str, object]] = [dict(s.as_dict()) for s in shortages]
    try:
        skus = dict(
            Sku.objects.filter(pk__in={s.sku_id for s in shortages}).values_list("pk", "code")
        )
        places = dict(
            StockLocation.objects.filter(
                pk__in={s.location_id for s in shortages if s.location_id is not None}
            ).values_list("pk", "code")
        )
    except DatabaseError:
        return rows
    for row, shortage in zip(rows, shortages, strict=True):
        row["sku"] = skus.get(shortage.sku_id, "")
        row["location"] = places.get(shortage.location_id, "") if shortage.location_id else None
    return rows


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
