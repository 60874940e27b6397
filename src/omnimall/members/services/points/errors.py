"""The points ledger's refusals (each a ``DomainError``: one mapping makes the HTTP status)."""

from __future__ import annotations

from omnimall.core.errors import ConflictError, NotFoundError, ValidationFailedError


class InsufficientPointsError(ConflictError):
    code = "insufficient_points"
    message = "The member does not have enough points available."


class PointsConflictError(ConflictError):
    code = "points_source_conflict"
    message = "This source key already posted a different points change."


class HoldNotHeldError(ConflictError):
    code = "points_hold_not_held"
    message = "The points hold is no longer held (committed, released or expired)."


class PointsLedgerError(ConflictError):
    code = "points_ledger_mismatch"
    message = "The member's points lots do not match the balance; run check_points_ledger."


class InvalidPointsError(ValidationFailedError):
    code = "invalid_points"
    message = "The number of points is not valid for this operation."


class PointsReasonRequiredError(ValidationFailedError):
    code = "reason_required"
    message = "A points adjustment needs a reason."


class MemberNotFoundError(NotFoundError):
    code = "member_not_found"
    message = "No such member."


class PointsHoldNotFoundError(NotFoundError):
    code = "points_hold_not_found"
    message = "No such points hold."
