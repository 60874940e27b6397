"""Refusals of the partner points exchange (JSON error codes in docs/partners.md)."""

from __future__ import annotations

from omnimall.core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)


class PartnerAuthError(DomainError):
    """Unknown key, missing or malformed headers, or a signature that does not match."""

    code = "signature_invalid"
    status = 401
    message = "The request signature is missing or not valid."


class TimestampOutOfWindowError(PartnerAuthError):
    code = "timestamp_out_of_window"
    message = "X-Timestamp is too far from the server's clock."


class NonceReusedError(PartnerAuthError):
    code = "nonce_reused"
    message = "X-Nonce was already used."


class PartnerInactiveError(PermissionDeniedError):
    code = "partner_inactive"
    message = "This partner is not active."


class MemberNotFoundError(NotFoundError):
    code = "member_not_found"
    message = "No member with that phone or card."


class TransferNotFoundError(NotFoundError):
    code = "transfer_not_found"
    message = "No transfer with that transaction id."


class TransferConflictError(ConflictError):
    code = "transfer_conflict"
    message = "That transaction id was used for a different transfer."


class TransferStateError(ConflictError):
    code = "transfer_state_conflict"
    message = "The transfer is no longer waiting for a confirmation."


class DailyLimitExceededError(ConflictError):
    code = "daily_limit_exceeded"
    message = "The member's daily limit for this partner would be exceeded."


class NoRateError(ConflictError):
    code = "no_rate"
    message = "No conversion rate is valid today."


class PartnerUnavailableError(ConflictError):
    code = "partner_unavailable"
    message = "This partner does not take transfers now."


class TooFewPointsError(ValidationFailedError):
    code = "too_few_points"
    message = "Too few points to convert into a whole point."


class PartnerSetupError(ValidationFailedError):
    code = "partner_invalid"
    message = "The partner's settings are not valid."
