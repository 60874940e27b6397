"""Till returns: goods brought back to a store, against a receipt or (authorised) without.

``record_till_return`` applies a return once per (store, number), like a receipt:

1. ``till_return.store_code`` must be ``store_id``'s code (422 ``unknown_store``); the
   same (store, number) again → the stored return (``created=False``), or 409
   ``return_conflict`` for another payload (any field: lines, receipt, member, time,
   ``authorised_by``, ``reason``; amounts compared to the cent and the time as an
   instant, as for receipts); unknown SKU codes → 422 ``unknown_sku``.
2. With ``receipt_number``: the store's receipt (422 ``unknown_receipt``), not after the
   return (``occurred_at`` at or after the receipt's, else 422 ``return_before_sale``:
   a till's clock or a typed receipt number gone wrong). A ``member`` given must be the
   receipt's (card or phone; 422 ``unknown_member`` / ``invalid_phone`` as at a sale),
   else 422 ``return_member_mismatch`` — also for a receipt without a member: the points
   and spend go back to whoever bought, so another member named is a mistake to report,
   not to ignore. Each line is matched to the receipt's lines — by ``line_no`` (its SKU
   must match, else 422
   ``invalid_return_line``) or by SKU (spread over the receipt's lines of that SKU in
   order). Quantity ≤ sold − already returned and the refunded amount ≤ the line's total
   − already refunded, else 422 ``return_exceeds_sale``. Concurrent returns against one
   receipt are serialised by locking the receipt row.
3. Without a receipt: ``authorised_by`` is required (422 ``validation_failed``); the lines
   are restocked; a member named (card or phone, which must exist: 422
   ``unknown_member``) is recorded on the return, with no points change and no purchase.
4. Stock: each line comes back with a ``return`` movement at this store
   (``inventory.services.receive_stock(kind=RETURN)``), levels in primary-key order.
5. Points (a receipt with a member): per receipt line, the earned points are reversed in
   proportion to the refunded amount, cumulatively —
   ``share(line.points_earned, refunded_after, line_total) − share(…, refunded_before, …)``
   — so returning everything reverses exactly what was earned, and returning a line that
   earned nothing reverses nothing (``reverse_earn`` on ``pos:<store>:<receipt>:earn``,
   source key ``pos-return:<store>:<number>:reverse``). If the member has already spent
   them, what is there is taken and the return is flagged ``points_shortfall``. Points
   the receipt was paid with come back in proportion to the refund over the receipt's
   total, cumulatively (``restore_points``, ``pos-return:<store>:<number>:restore``).
   A negative purchase (``pos-return:<store>:<number>``) lowers the member's tier spend.
   (``return_key``: returns recorded before 2026-11-29 have ``pos:<store>:return:…``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from omnimall.core.actors import Actor
from omnimall.core.errors import ValidationFailedError
from omnimall.core.money import quantize
from omnimall.inventory import services as inventory_services
from omnimall.inventory.models import MovementKind, StockLevel
from omnimall.members.domain import share
from omnimall.members.models import PurchaseChannel
from omnimall.members.services import points as points_services
from omnimall.members.services import purchases as purchase_services
from omnimall.pos import domain
from omnimall.pos.errors import (
    ReturnBeforeSaleError,
    ReturnConflictError,
    ReturnExceedsSaleError,
    ReturnLineError,
    ReturnMemberMismatchError,
    UnknownMemberError,
    UnknownReceiptError,
    UnknownStoreError,
)
from omnimall.pos.models import Receipt, ReceiptLine, TillReturn, TillReturnLine

from .sales import MemberRef, resolve_member, sku_ids_of, source_key, store_code_of


@dataclass(frozen=True, slots=True)
class ReturnResult:
    return_id: int
    number: str
    created: bool  # False: a replay (nothing written)
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Part:
    """A piece of a return line matched to one receipt line (or to none)."""

    sku_id: int
    quantity: int
    amount: Decimal
    receipt_line: ReceiptLine | None


def return_key(store_code: str, number: str, suffix: str = "") -> str:
    """``pos-return:<store>:<number>[:suffix]`` — the keys of a return's ledger entries.

    Not under ``pos:`` where a receipt's keys are (``sales.source_key``), so no receipt
    number can give a return's key. Returns recorded before 2026-11-29 keep the keys they
    were given, ``pos:<store>:return:<number>[:suffix]`` (nothing computes them again);
    receipts may not be numbered ``return:…`` so none shares those
    (``domain.receipt_number_problem``).
    """
    key = f"pos-return:{store_code}:{number}"
    return f"{key}:{suffix}" if suffix else key


def record_till_return(
    *, till_return: domain.TillReturnIn, store_id: int, actor: Actor
) -> ReturnResult:
    """Apply one till return exactly once (see the module docstring for every rule)."""
    store_code = store_code_of(store_id)
    if store_code != till_return.store_code:
        raise UnknownStoreError(store=till_return.store_code)
    digest = till_return.payload_hash()
    existing = _existing(till_return, store_id=store_id, digest=digest)
    if existing is not None:
        return existing
    sku_ids = sku_ids_of([line.sku_code for line in till_return.lines])
    receipt_id: int | None = None
    member_ref: MemberRef | None = None
    if till_return.receipt_number:
        receipt_id, receipt_member_id = _receipt_returned(till_return, store_id=store_id)
        _check_member(till_return, receipt_member_id=receipt_member_id)
    else:
        if not till_return.authorised_by.strip():
            raise ValidationFailedError(
                "A return without a receipt needs authorised_by (the staff member)."
            )
        if any(line.line_no is not None for line in till_return.lines):
            raise ReturnLineError("A return without a receipt has no receipt lines.")
        member_ref = resolve_member(phone=till_return.member_phone, card=till_return.member_card)
        if member_ref is not None and member_ref.member_id is None:
            raise UnknownMemberError("No member has this phone.", phone=till_return.member_phone)
    try:
        with transaction.atomic():
            return _apply(
                till_return=till_return,
                store_id=store_id,
                store_code=store_code,
                actor=actor,
                digest=digest,
                sku_ids=sku_ids,
                receipt_id=receipt_id,
                member_id=member_ref.member_id if member_ref else None,
            )
    except IntegrityError:
        existing = _existing(till_return, store_id=store_id, digest=digest)
        if existing is None:
            raise
        return existing


def _receipt_returned(till_return: domain.TillReturnIn, *, store_id: int) -> tuple[int, int | None]:
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


def _check_member(till_return: domain.TillReturnIn, *, receipt_member_id: int | None) -> None:
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


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _existing(
    till_return: domain.TillReturnIn, *, store_id: int, digest: str
) -> ReturnResult | None:
    """The stored return of this (store, number): a replay when it says the same, else
    409 ``return_conflict``."""
    number = till_return.number
    row = (
        TillReturn.objects.filter(store_id=store_id, number=number)
        .values("pk", "payload_hash", "flags", "authorised_by", "reason")
        .first()
    )
    if row is None:
        return None
    stored = row["payload_hash"]
    same = (
        stored == digest
        # Recorded before amounts and times were normalised: the digest as written.
        or stored == till_return.payload_hash_v2()
        # Recorded before who and why were in the digest: compare them as stored.
        or (
            stored == till_return.payload_hash_v1()
            and row["authorised_by"] == till_return.authorised_by
            and row["reason"] == till_return.reason
        )
    )
    if not same:
        raise ReturnConflictError(return_number=number)
    return ReturnResult(
        return_id=row["pk"],
        number=number,
        created=False,
        flags=tuple(flag.get("code", "") for flag in row["flags"] or ()),
    )


def _apply(
    *,
    till_return: domain.TillReturnIn,
    store_id: int,
    store_code: str,
    actor: Actor,
    digest: str,
    sku_ids: dict[str, int],
    receipt_id: int | None,
    member_id: int | None,
) -> ReturnResult:
    row = TillReturn.objects.create(
        store_id=store_id,
        number=till_return.number,
        occurred_at=till_return.occurred_at,
        reason=till_return.reason,
        authorised_by=till_return.authorised_by,
        refund_total=till_return.refund_total,
        member_id=member_id,
        receipt_id=receipt_id,
        payload_hash=digest,
    )
    flags: list[dict[str, Any]] = []
    receipt: Receipt | None = None
    refunded_before: dict[int, Decimal] = {}
    if receipt_id is not None:
        receipt = Receipt.objects.select_for_update().get(pk=receipt_id)
        refunded_before = _refunded_by_line(receipt)
        parts = _match_receipt_lines(till_return, receipt=receipt, refunded=refunded_before)
    else:
        parts = [
            _Part(sku_ids[line.sku_code], line.quantity, line.amount, None)
            for line in till_return.lines
        ]
    TillReturnLine.objects.bulk_create(
        TillReturnLine(
            till_return=row,
            receipt_line=part.receipt_line,
            sku_id=part.sku_id,
            quantity=part.quantity,
            amount=part.amount,
        )
        for part in parts
    )
    _restock(parts, store_id=store_id, actor=actor, reference=return_key(store_code, row.number))
    if receipt is not None and receipt.member_id is not None:
        row.member_id = receipt.member_id
        row.points_reversed, row.points_restored = _points_back(
            parts,
            receipt=receipt,
            return_id=row.pk,
            refunded_before=refunded_before,
            till_return=till_return,
            store_code=store_code,
            actor=actor,
            flags=flags,
        )
        purchase_services.record_purchase(
            member_id=receipt.member_id,
            channel=PurchaseChannel.STORE,
            store_id=store_id,
            document=row.number,
            source_key=return_key(store_code, row.number),
            amount=-till_return.refund_total,
            occurred_at=till_return.occurred_at,
            actor=actor,
        )
    row.flags = flags
    row.save(update_fields=["member", "points_reversed", "points_restored", "flags"])
    return ReturnResult(row.pk, row.number, True, tuple(flag["code"] for flag in flags))


def _refunded_by_line(receipt: Receipt) -> dict[int, Decimal]:
    rows = (
        TillReturnLine.objects.filter(receipt_line__receipt=receipt)
        .values("receipt_line_id")
        .annotate(total=Sum("amount"))
    )
    return {r["receipt_line_id"]: r["total"] or Decimal("0") for r in rows}


def _match_receipt_lines(
    till_return: domain.TillReturnIn, *, receipt: Receipt, refunded: dict[int, Decimal]
) -> list[_Part]:
    """Match the return's lines to the receipt's; ``refunded`` = refunded before, per line."""
    lines = list(receipt.lines.order_by("line_no"))
    by_no = {line.line_no: line for line in lines}
    room = {line.pk: line.quantity - line.quantity_returned for line in lines}
    refunded = dict(refunded)
    parts: list[_Part] = []
    for wanted in till_return.lines:
        if wanted.line_no is not None:
            line = by_no.get(wanted.line_no)
            if line is None or line.sku_code != wanted.sku_code:
                raise ReturnLineError(line_no=wanted.line_no, sku=wanted.sku_code)
            parts.append(_take(line, wanted.quantity, wanted.amount, room, refunded))
            continue
        candidates = [
            line for line in lines if line.sku_code == wanted.sku_code and room[line.pk] > 0
        ]
        if not candidates:
            if any(line.sku_code == wanted.sku_code for line in lines):
                raise ReturnExceedsSaleError(sku=wanted.sku_code)
            raise ReturnLineError(sku=wanted.sku_code)
        parts.extend(_spread(wanted, candidates, room, refunded))
    for part in parts:
        assert part.receipt_line is not None  # noqa: S101 (matched above)
        matched = ReceiptLine.objects.filter(
            pk=part.receipt_line.pk, quantity__gte=F("quantity_returned") + part.quantity
        ).update(quantity_returned=F("quantity_returned") + part.quantity)
        if matched != 1:  # pragma: no cover - the receipt is locked
            raise ReturnExceedsSaleError(sku=part.receipt_line.sku_code)
    return parts


def _take(
    line: ReceiptLine,
    quantity: int,
    amount: Decimal,
    room: dict[int, int],
    refunded: dict[int, Decimal],
) -> _Part:
    already = refunded.get(line.pk, Decimal("0"))
    if quantity > room[line.pk] or already + amount > line.line_total:
        raise ReturnExceedsSaleError(
            line_no=line.line_no,
            sku=line.sku_code,
            returnable=room[line.pk],
            refundable=str(line.line_total - already),
        )
    room[line.pk] -= quantity
    refunded[line.pk] = already + amount
    return _Part(line.sku_id, quantity, amount, line)


def _spread(
    wanted: domain.ReturnLine,
    candidates: list[ReceiptLine],
    room: dict[int, int],
    refunded: dict[int, Decimal],
) -> list[_Part]:
    """A return line by SKU over the receipt's lines of that SKU (amount by quantity)."""
    if wanted.quantity > sum(room[line.pk] for line in candidates):
        raise ReturnExceedsSaleError(sku=wanted.sku_code)
    parts: list[_Part] = []
    left_quantity, left_amount = wanted.quantity, wanted.amount
    for line in candidates:
        if left_quantity == 0:
            break
        quantity = min(left_quantity, room[line.pk])
        last = quantity == left_quantity
        amount = left_amount if last else quantize(wanted.amount * quantity / wanted.quantity)
        parts.append(_take(line, quantity, amount, room, refunded))
        left_quantity -= quantity
        left_amount -= amount
    return parts


def _restock(parts: list[_Part], *, store_id: int, actor: Actor, reference: str) -> None:
    units: dict[int, int] = {}
    for part in parts:
        units[part.sku_id] = units.get(part.sku_id, 0) + part.quantity
    # Levels in primary-key order (the stock lock order); levels not there yet last.
    level_order = dict(
        StockLevel.objects.filter(location_id=store_id, sku_id__in=units).values_list(
            "sku_id", "pk"
        )
    )
    for sku_id in sorted(units, key=lambda sku: (level_order.get(sku, 2**62), sku)):
        inventory_services.receive_stock(
            location_id=store_id,
            sku_id=sku_id,
            quantity=units[sku_id],
            actor=actor,
            reference=reference,
            kind=MovementKind.RETURN,
        )


def _points_back(
    parts: list[_Part],
    *,
    receipt: Receipt,
    return_id: int,
    refunded_before: dict[int, Decimal],
    till_return: domain.TillReturnIn,
    store_code: str,
    actor: Actor,
    flags: list[dict[str, Any]],
) -> tuple[int, int]:
    """Reverse the returned share of the earn, restore the returned share of points spent."""
    assert receipt.member_id is not None  # noqa: S101 (checked by the caller)
    to_reverse = 0
    before = dict(refunded_before)  # per receipt line; this return's parts add up
    for part in parts:
        line = part.receipt_line
        assert line is not None  # noqa: S101
        done = before.get(line.pk, Decimal("0"))
        to_reverse += share(line.points_earned, done + part.amount, line.line_total) - share(
            line.points_earned, done, line.line_total
        )
        before[line.pk] = done + part.amount
    reversed_points = 0
    document = till_return.number
    if to_reverse > 0:
        entry = points_services.reverse_earn(
            earn_source_key=source_key(store_code, receipt.number, "earn"),
            points=to_reverse,
            source_key=return_key(store_code, document, "reverse"),
            document=document,
            actor=actor,
            reason=f"returned at the till against {receipt.number}",
        )
        if entry is not None:
            reversed_points = -(entry.available_delta + entry.pending_delta)
        if reversed_points < to_reverse:
            flags.append(
                {
                    "code": "points_shortfall",
                    "message": "The member had already spent some of the points earned.",
                    "points": to_reverse,
                    "reversed": reversed_points,
                }
            )
    restored = 0
    if receipt.points_spent > 0:
        earlier: Decimal = TillReturn.objects.filter(receipt=receipt).exclude(
            pk=return_id
        ).aggregate(total=Sum("refund_total"))["total"] or Decimal("0")
        restored = share(
            receipt.points_spent, earlier + till_return.refund_total, receipt.total
        ) - share(receipt.points_spent, earlier, receipt.total)
        if restored > 0:
            points_services.restore_points(
                member_id=receipt.member_id,
                points=restored,
                source_key=return_key(store_code, document, "restore"),
                document=document,
                actor=actor,
                reason=f"paid with points on {receipt.number}, returned",
            )
    return reversed_points, restored
