"""Why a till's request was refused. ``core.api.errors`` turns these into JSON 4xx bodies."""

from __future__ import annotations

from omnimall.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)


class ForbiddenStoreError(PermissionDeniedError):
    code = "forbidden_store"
    message = "This API key may not act for this store."


class UnknownStoreError(ValidationFailedError):
    code = "unknown_store"
    message = "No such store."


class UnknownSkuError(ValidationFailedError):
    code = "unknown_sku"
    message = "Some SKU codes are unknown; nothing was recorded."


class UnknownMemberError(ValidationFailedError):
    code = "unknown_member"
    message = "No member has this card."


class MemberNotFoundError(NotFoundError):
    code = "member_not_found"
    message = "No member has this phone or card."


class MemberQueryError(ValidationFailedError):
    code = "member_query"
    message = "Give either the phone or the card number (one of them)."


class InvalidPointsPaymentError(ValidationFailedError):
    code = "invalid_points_payment"
    message = "The points payment does not fit this receipt."


class UnsupportedCurrencyError(ValidationFailedError):
    code = "unsupported_currency"
    message = "The receipt is not in the shop's currency; nothing was recorded."


class PaymentsMismatchError(ValidationFailedError):
    code = "payments_mismatch"
    message = "The payments do not add up to the receipt's total; nothing was recorded."


class ReceiptConflictError(ConflictError):
    code = "receipt_conflict"
    message = "This store already recorded this receipt number with other contents."


class ReturnConflictError(ConflictError):
    code = "return_conflict"
    message = "This store already recorded this return number with other contents."


class UnknownReceiptError(ValidationFailedError):
    code = "unknown_receipt"
    message = "This store has no receipt with this number."


class ReturnBeforeSaleError(ValidationFailedError):
    code = "return_before_sale"
    message = "The return is dated before its receipt; nothing was recorded."


class ReturnMemberMismatchError(ValidationFailedError):
    code = "return_member_mismatch"
    message = "The member given is not the receipt's member; nothing was recorded."


class ReturnLineError(ValidationFailedError):
    code = "invalid_return_line"
    message = "A return line does not match the receipt."


class ReturnExceedsSaleError(ValidationFailedError):
    code = "return_exceeds_sale"
    message = "More is returned (or refunded) than the receipt sold."


class HoldNotFoundError(NotFoundError):
    code = "unknown_hold"
    message = "No till points hold with this id."


class HoldReceiptMismatchError(ConflictError):
    code = "hold_receipt_mismatch"
    message = "This points hold was taken for another receipt, member or amount."


class ReceiptNotFlaggedError(ConflictError):
    code = "receipt_not_flagged"
    message = "This receipt does not need attention."
