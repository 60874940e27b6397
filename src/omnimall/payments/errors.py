"""Refusals of the payments app; the API maps each to its status and code."""

from __future__ import annotations

from omnimall.core.errors import ConflictError, DomainError, NotFoundError, ValidationFailedError


class PaymentNotFoundError(NotFoundError):
    code = "unknown_payment"
    message = "No such payment."


class UnknownGatewayError(ValidationFailedError):
    code = "unknown_gateway"
    message = "No such payment gateway."


class InvalidPaymentAmountError(ValidationFailedError):
    code = "invalid_payment_amount"
    message = "A payment's amount must be positive, in cents."


class InvalidRefundError(ValidationFailedError):
    code = "invalid_refund"
    message = "A refund needs a positive amount and a refund number."


class NothingToRefundError(ConflictError):
    code = "nothing_to_refund"
    message = "The order has no captured payment to refund."


class RefundExceedsCapturedError(ConflictError):
    code = "refund_exceeds_captured"
    message = "The refund is more than what was captured and not yet refunded."


class RefundNumberReusedError(ConflictError):
    code = "refund_no_reused"
    message = "This refund number was already used for a different refund."


class RefundInProgressError(ConflictError):
    code = "refund_in_progress"
    message = "A refund with this number is still being processed."


class RefundFailedError(DomainError):
    code = "refund_failed"
    status = 502
    message = "The payment gateway refused or failed the refund."


class GatewayError(Exception):
    """A gateway could not do what was asked (network, refusal). Not a domain error:
    services turn it into one (``RefundFailedError``) after recording what happened."""
