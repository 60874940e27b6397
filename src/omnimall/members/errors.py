"""Refusals of the members app (the API maps each to its status and ``code``)."""

from __future__ import annotations

from omnimall.core.errors import ConflictError, NotFoundError, ValidationFailedError


class InvalidPhoneNumberError(ValidationFailedError):
    code = "invalid_phone"
    message = "This is not a mobile number we can use."


class MemberNotFoundError(NotFoundError):
    code = "member_not_found"
    message = "No such member."


class PurchaseConflictError(ConflictError):
    code = "purchase_conflict"
    message = "This purchase was already recorded with another member or amount."


class VerificationTooSoonError(ConflictError):
    code = "verification_too_soon"
    status = 429
    message = "A code was sent less than a minute ago. Please wait before asking again."


class VerificationExpiredError(ValidationFailedError):
    code = "verification_expired"
    message = "This code has expired or was never sent. Ask for a new one."


class VerificationLockedError(ConflictError):
    code = "verification_locked"
    status = 429
    message = "Too many wrong codes. Ask for a new one."


class VerificationWrongCodeError(ValidationFailedError):
    code = "verification_wrong_code"
    message = "That code is not right."


class MemberLinkedElsewhereError(ConflictError):
    code = "member_linked_elsewhere"
    message = "This mobile number's membership is linked to another account."


class AccountAlreadyLinkedError(ConflictError):
    code = "account_already_linked"
    message = "This account is already linked to another membership."


class MergeRefusedError(ConflictError):
    code = "merge_refused"
    message = "These members cannot be merged."
