"""Refusals of the shopper-account services."""

from __future__ import annotations

from omnimall.core.errors import ConflictError


class EmailTakenError(ConflictError):
    code = "email_taken"
    message = "An account with this email address already exists."
