"""Writing one segment of ordinary receipts: one transaction, set-based statements."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.inventory.services import till_bulk
from omnimall.members.models import PurchaseChannel
from omnimall.members.services import bulk_earn, purchases
from omnimall.pos import domain
from omnimall.pos.models import Receipt, ReceiptLine, ReceiptState
from omnimall.pos.services import sales as sale_services

from .planning import Plan


class StaleError(Exception):
    """The segment's plan no longer holds under its locks; roll it back."""


def write_segment(plans: Sequence[Plan], *, source: str, actor: Actor) -> None:
    now = clock.now()
    when = connection.ops.adapt_datetimefield_value(now)
    ids = _insert_receipts(plans, source=source, when=when)
    if len(ids) != len(plans):
        raise StaleError("a receipt was recorded meanwhile")
    needs: dict[int, int] = {}
    for plan in plans:
        for level_id, line in zip(plan.level_ids, plan.sale.lines, strict=True):
            needs[level_id] = needs.get(level_id, 0) + line.quantity
    locked = till_bulk.lock_levels(needs)
    if any(locked[level_id].sellable < units for level_id, units in needs.items()):
        raise StaleError("the stock moved")
    members = {p.member.member_id: p.member for p in plans if p.member is not None}
    states = bulk_earn.lock_members(members)
    for member_id, seen in members.items():
        state = states.get(member_id)
        if state is None or state.merged_into_id is not None or state.tier_id != seen.tier_id:
            raise StaleError("a member changed")
    _insert_lines(plans, ids)
    till_bulk.sell_in_bulk(
        sales=[
            till_bulk.BulkSale(
                level_id=level_id,
                quantity=line.quantity,
                reference=sale_services.source_key(plan.sale.store_code, plan.sale.number),
            )
            for plan in plans
            for level_id, line in zip(plan.level_ids, plan.sale.lines, strict=True)
        ],
        actor=actor,
        now=now,
    )
    with_member = [p for p in plans if p.member is not None]
    bulk_earn.earn_points_bulk(
        earns=[
            bulk_earn.BulkEarn(
                member_id=p.member.member_id,
                points=sum(p.line_points),
                source_key=sale_services.source_key(p.sale.store_code, p.sale.number, "earn"),
                document=p.sale.number,
            )
            for p in with_member
            if p.member is not None and sum(p.line_points) > 0
        ],
        actor=actor,
        now=now,
    )
    purchases.record_purchases_bulk(
        rows=[
            purchases.PurchaseRow(
                member_id=p.member.member_id,
                channel=PurchaseChannel.STORE,
                store_id=p.store_id,
                document=p.sale.number,
                source_key=sale_services.source_key(p.sale.store_code, p.sale.number),
                amount=p.total,
                occurred_at=p.sale.occurred_at,
            )
            for p in with_member
            if p.member is not None
        ],
        now=now,
    )


def _payments_json(sale: domain.Sale) -> str:
    """The receipt's payments as ``record_sale`` stores them."""
    return json.dumps(
        [
            {
                "method": p.method,
                "amount": str(p.amount),
                **({"points": p.points} if p.points else {}),
                **({"hold_id": p.hold_id} if p.hold_id else {}),
            }
            for p in sale.payments
        ]
    )


def _insert_receipts(
    plans: Sequence[Plan], *, source: str, when: Any
) -> dict[tuple[int, str], int]:
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        (
            p.store_id,
            p.sale.number,
            adapt(p.sale.occurred_at),
            p.member.member_id if p.member is not None else None,
            p.sale.currency,
            p.total,
            p.sale.discount_total,
            _payments_json(p.sale),
            sum(p.line_points),
            p.digest,
        )
        for p in plans
    ]
    inserted = till_bulk.insert_rows(
        Receipt,
        (
            "store_id",
            "number",
            "occurred_at",
            "member_id",
            "currency",
            "total",
            "discount_total",
            "payments",
            "points_earned",
            "payload_hash",
        ),
        rows,
        constant={
            "points_spent": 0,
            "state": ReceiptState.APPLIED.value,
            "flags": "[]",
            "source": source,
            "created_at": when,
        },
        returning=("id", "store_id", "number"),
        on_conflict="ON CONFLICT (store_id, number) DO NOTHING",
    )
    return {(store_id, number): pk for pk, store_id, number in inserted}


def _insert_lines(plans: Sequence[Plan], ids: dict[tuple[int, str], int]) -> None:
    rows: list[tuple[Any, ...]] = []
    for plan in plans:
        receipt_id = ids[(plan.store_id, plan.sale.number)]
        for line, sku_id, points, line_total in zip(
            plan.sale.lines, plan.sku_ids, plan.line_points, plan.line_totals, strict=True
        ):
            rows.append(
                (
                    receipt_id,
                    line.line_no,
                    sku_id,
                    line.sku_code,
                    line.quantity,
                    line.unit_price,
                    line.discount,
                    line_total,
                    points,
                )
            )
    till_bulk.insert_rows(
        ReceiptLine,
        (
            "receipt_id",
            "line_no",
            "sku_id",
            "sku_code",
            "quantity",
            "unit_price",
            "discount",
            "line_total",
            "points_earned",
        ),
        rows,
        constant={"quantity_returned": 0},
    )
