"""Domain errors. One handler (``core.api.errors``) turns them into JSON 4xx bodies."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "invalid"
    status = 400
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.message
        self.details = details
        super().__init__(self.message)


class NotFoundError(DomainError):
    code = "not_found"
    status = 404
    message = "Not found."


class ValidationFailedError(DomainError):
    code = "validation_failed"
    status = 422
    message = "The input is not valid."


class PermissionDeniedError(DomainError):
    code = "forbidden"
    status = 403
    message = "This credential may not do that."


class ConflictError(DomainError):
    code = "conflict"
    status = 409
    message = "The request conflicts with an earlier one."


class TooManyRequestsError(DomainError):
    """A brake on repetition (429). ``retry_after``: seconds until a try may succeed, sent
    as the ``Retry-After`` header when known."""

    code = "too_many_requests"
    status = 429
    message = "Too many requests. Wait a little and try again."

    def __init__(
        self, message: str | None = None, *, retry_after: int | None = None, **details: Any
    ) -> None:
        self.retry_after = retry_after
        if retry_after is not None:
            details["retry_after"] = retry_after
        super().__init__(message, **details)
