"""``record_till_return``: a till return applied once per (store, number).

The same (store, number) again is a replay (the stored return) or a 409; a new return is
checked (``checks``), then written in one transaction: the return row first (its unique
(store, number) makes a concurrent duplicate wait, then replay), its lines matched to the
receipt's (``matching``), and what it gives back (``effects``). The package docstring
has every rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from omnimall.core.actors import Actor
from omnimall.pos import domain
from omnimall.pos.errors import ReturnConflictError, UnknownStoreError
from omnimall.pos.models import Receipt, TillReturn, TillReturnLine
from omnimall.pos.services.sales import sku_ids_of, store_code_of

from . import checks, effects
from .matching import ReturnPart, match_receipt_lines, refunded_by_line


@dataclass(frozen=True, slots=True)
class ReturnResult:
    return_id: int
    number: str
    created: bool  # False: a replay (nothing written)
    flags: tuple[str, ...]


def record_till_return(
    *, till_return: domain.TillReturnIn, store_id: int, actor: Actor
) -> ReturnResult:
    """Apply one till return exactly once (see the package docstring for every rule)."""
    store_code = store_code_of(store_id)
    if store_code != till_return.store_code:
        raise UnknownStoreError(store=till_return.store_code)
    digest = till_return.payload_hash()
    existing = _existing(till_return, store_id=store_id, digest=digest)
    if existing is not None:
        return existing
    sku_ids = sku_ids_of([line.sku_code for line in till_return.lines])
    receipt_id: int | None = None
    member_id: int | None = None
    if till_return.receipt_number:
        receipt_id, receipt_member_id = checks.receipt_returned(till_return, store_id=store_id)
        checks.check_member(till_return, receipt_member_id=receipt_member_id)
    else:
        member_id = checks.member_without_receipt(till_return)
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
                member_id=member_id,
            )
    except IntegrityError:
        existing = _existing(till_return, store_id=store_id, digest=digest)
        if existing is None:
            raise
        return existing


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
        refund_method=till_return.refund_method,
        member_id=member_id,
        receipt_id=receipt_id,
        payload_hash=digest,
    )
    flags: list[dict[str, Any]] = []
    receipt: Receipt | None = None
    refunded_before: dict[int, Decimal] = {}
    if receipt_id is not None:
        receipt = Receipt.objects.select_for_update().get(pk=receipt_id)
        row.refund_method = row.refund_method or domain.single_money_method(receipt.payments)
        refunded_before = refunded_by_line(receipt)
        parts = match_receipt_lines(till_return, receipt=receipt, refunded=refunded_before)
    else:
        parts = [
            ReturnPart(sku_ids[line.sku_code], line.quantity, line.amount, None)
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
    effects.restock(
        parts, store_id=store_id, actor=actor, reference=effects.return_key(store_code, row.number)
    )
    if receipt is not None and receipt.member_id is not None:
        row.member_id = receipt.member_id
        row.points_reversed, row.points_restored = effects.give_back_to_member(
            parts,
            receipt=receipt,
            return_id=row.pk,
            refunded_before=refunded_before,
            till_return=till_return,
            store_id=store_id,
            store_code=store_code,
            actor=actor,
            flags=flags,
        )
    row.flags = flags
    row.save(
        update_fields=["member", "points_reversed", "points_restored", "flags", "refund_method"]
    )
    return ReturnResult(row.pk, row.number, True, tuple(flag["code"] for flag in flags))
