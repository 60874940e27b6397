"""What a till return must pass before anything of it is written.

Against a receipt: the store's receipt it names, sold no later than the return, and a
member named being that receipt's. Without one: the staff member who allowed it, no
receipt lines, and a member named who exists. Each refusal is a 422 and nothing is
recorded (the package docstring, rules 2 and 3).
"""

from __future__ import annotations

from datetime import UTC, datetime

from omnimall.core.errors import ValidationFailedError
from omnimall.pos import domain
from omnimall.pos.errors import (
    ReturnBeforeSaleError,
    ReturnLineError,
    ReturnMemberMismatchError,
    UnknownMemberError,
    UnknownReceiptError,
)
from omnimall.pos.models import Receipt
from omnimall.pos.services.sales import resolve_member


def receipt_returned(till_return: domain.TillReturnIn, *, store_id: int) -> tuple[int, int | None]:
    """The id and member of the store's receipt the return names; 422
    ``unknown_receipt``, or ``return_before_sale`` when the return is dated before it."""
    receipt = (
        Receipt.objects.filter(store_id=store_id, number=till_return.receipt_number)
        .values("pk", "occurred_at", "member_id")
        .first()
    )
    if receipt is None:
        raise UnknownReceiptError(receipt_number=till_return.receipt_number)
    sold_at: datetime = receipt["occurred_at"]
    if till_return.occurred_at < sold_at:
        raise ReturnBeforeSaleError(
            f"The return is dated {_utc(till_return.occurred_at)}, before its receipt "
            f"{till_return.receipt_number} ({_utc(sold_at)}): goods come back after they "
            "were sold. Nothing was recorded.",
            receipt_number=till_return.receipt_number,
            receipt_occurred_at=_utc(sold_at),
            occurred_at=_utc(till_return.occurred_at),
        )
    return receipt["pk"], receipt["member_id"]


def check_member(till_return: domain.TillReturnIn, *, receipt_member_id: int | None) -> None:
    """A member named on a return against a receipt must be the receipt's member (the
    return's points and spend go back to whoever bought): else 422
    ``return_member_mismatch``. Naming none is fine."""
    ref = resolve_member(phone=till_return.member_phone, card=till_return.member_card)
    if ref is None or (ref.member_id is not None and ref.member_id == receipt_member_id):
        return  # none named, or the receipt's (an unknown phone is nobody's receipt)
    receipt_number = till_return.receipt_number
    if receipt_member_id is None:
        raise ReturnMemberMismatchError(
            f"Receipt {receipt_number} was recorded without a member: leave the member out "
            "of its return. Nothing was recorded.",
            receipt_number=receipt_number,
        )
    raise ReturnMemberMismatchError(
        f"The member given is not the member of receipt {receipt_number}: give the "
        "receipt's member, or leave the member out. Nothing was recorded.",
        receipt_number=receipt_number,
    )


def member_without_receipt(till_return: domain.TillReturnIn) -> int | None:
    """The member a return without receipt names (None: none named), once the return is
    found acceptable: ``authorised_by`` given (else 422 ``validation_failed``), no receipt
    lines (``invalid_return_line``), a member who exists (``unknown_member``)."""
    if not till_return.authorised_by.strip():
        raise ValidationFailedError(
            "A return without a receipt needs authorised_by (the staff member)."
        )
    if any(line.line_no is not None for line in till_return.lines):
        raise ReturnLineError("A return without a receipt has no receipt lines.")
    member_ref = resolve_member(phone=till_return.member_phone, card=till_return.member_card)
    if member_ref is not None and member_ref.member_id is None:
        raise UnknownMemberError("No member has this phone.", phone=till_return.member_phone)
    return member_ref.member_id if member_ref else None


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
