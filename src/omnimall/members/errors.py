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
