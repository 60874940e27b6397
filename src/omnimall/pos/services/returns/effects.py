"""What a recorded till return gives back, and the ledger keys it writes that under.

The goods go back into the store's stock; for a receipt with a member, the points the
returned part earned are reversed, the points it was paid with restored, and the refund
comes off the member's spend (the package docstring, rules 4 and 5). Runs inside the
return's transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum

from omnimall.core.actors import Actor
from omnimall.inventory import services as inventory_services
from omnimall.inventory.models import MovementKind, StockLevel
from omnimall.members.domain import share
from omnimall.members.models import PurchaseChannel
from omnimall.members.services import points as points_services
from omnimall.members.services import purchases as purchase_services
from omnimall.pos import domain
from omnimall.pos.models import Receipt, TillReturn
from omnimall.pos.services.sales import source_key

from .matching import ReturnPart


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


def restock(parts: list[ReturnPart], *, store_id: int, actor: Actor, reference: str) -> None:
    """Each SKU's returned units back into the store's stock (``return`` movements)."""
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


def give_back_to_member(
    parts: list[ReturnPart],
    *,
    receipt: Receipt,
    return_id: int,
    refunded_before: dict[int, Decimal],
    till_return: domain.TillReturnIn,
    store_id: int,
    store_code: str,
    actor: Actor,
    flags: list[dict[str, Any]],
) -> tuple[int, int]:
    """For a receipt with a member: reverse the returned share of the earn, restore the
    returned share of points spent, take the refund off their spend (a negative
    purchase). Returns (points reversed, points restored)."""
    member_id = receipt.member_id
    assert member_id is not None  # noqa: S101 (checked by the caller)
    reversed_points = _reverse_earned(
        parts,
        receipt=receipt,
        refunded_before=refunded_before,
        document=till_return.number,
        store_code=store_code,
        actor=actor,
        flags=flags,
    )
    restored = _restore_paid(
        receipt=receipt,
        member_id=member_id,
        return_id=return_id,
        till_return=till_return,
        store_code=store_code,
        actor=actor,
    )
    purchase_services.record_purchase(
        member_id=member_id,
        channel=PurchaseChannel.STORE,
        store_id=store_id,
        document=till_return.number,
        source_key=return_key(store_code, till_return.number),
        amount=-till_return.refund_total,
        occurred_at=till_return.occurred_at,
        actor=actor,
    )
    return reversed_points, restored


def _reverse_earned(
    parts: list[ReturnPart],
    *,
    receipt: Receipt,
    refunded_before: dict[int, Decimal],
    document: str,
    store_code: str,
    actor: Actor,
    flags: list[dict[str, Any]],
) -> int:
    """Each line's earned points in the share refunded, cumulatively over its returns;
    what the member has already spent of them is flagged ``points_shortfall``."""
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
    return reversed_points


def _restore_paid(
    *,
    receipt: Receipt,
    member_id: int,
    return_id: int,
    till_return: domain.TillReturnIn,
    store_code: str,
    actor: Actor,
) -> int:
    """The points the receipt was paid with, in the share of its total refunded,
    cumulatively over its returns."""
    if receipt.points_spent <= 0:
        return 0
    earlier: Decimal = TillReturn.objects.filter(receipt=receipt).exclude(pk=return_id).aggregate(
        total=Sum("refund_total")
    )["total"] or Decimal("0")
    restored = share(
        receipt.points_spent, earlier + till_return.refund_total, receipt.total
    ) - share(receipt.points_spent, earlier, receipt.total)
    if restored > 0:
        document = till_return.number
        points_services.restore_points(
            member_id=member_id,
            points=restored,
            source_key=return_key(store_code, document, "restore"),
            document=document,
            actor=actor,
            reason=f"paid with points on {receipt.number}, returned",
        )
    return restored
