"""Till sales: one receipt, applied once, to the stock ledger and the points ledger.

``record_sale`` is the one way a receipt is applied, whichever way it arrived (the live
API, the end-of-day batch for what the fast path cannot prove, the file import). Its
exact semantics, which the batch path reproduces for the receipts it applies in bulk:

Order of checks (nothing is written when one refuses):

1. ``sale.store_code`` must be the code of ``store_id`` (a store) — else 422
   ``unknown_store``.
2. A receipt with the same (store, number) already exists: same ``payload_hash`` (amounts
   to the cent, the time as an instant, payment methods as their codes; a receipt
   recorded before these rules: the digest it kept, see ``is_same_receipt``) → the
   stored receipt is returned with ``created=False`` (a replay; nothing is written);
   another hash → ``ReceiptConflictError`` (409 ``receipt_conflict``).
3. Every SKU code must exist — else ``UnknownSkuError`` (422 ``unknown_sku``,
   ``details.skus`` lists the unknown codes).
4. Payments. Points: a receipt paying with points needs a member; the points' value
   may not exceed the total; at most one payment names a ``hold_id`` — else 422
   ``invalid_points_payment``. Then the receipt must be in the shop's currency
   (``settings.DEFAULT_CURRENCY``, in which points are earned and tiers reached) — else
   422 ``unsupported_currency`` — and its payments (points at their money value) must add
   up to exactly its total — else 422 ``payments_mismatch`` (``details``: ``paid``,
   ``total``): no stock or points move for money the till did not take.
5. The member: by card (``find_member(card=…)``; unknown → 422 ``unknown_member``), else
   by phone (an invalid number → 422 ``invalid_phone``; unknown → enrolled in step 6 with
   ``joined_store_id`` = the store). Merged members resolve to the survivor.

Then ONE transaction (a savepoint when the caller already has one):

6. Insert the ``Receipt`` first (unique (store, number): a concurrent duplicate waits on
   the index and then takes the replay/conflict path of step 2, so a receipt posted many
   times at once is applied exactly once). Enrol the member if the phone is new.
7. Stock: ``inventory.services.sell_lines_at_store`` — each line a ``sale`` movement at
   the store of ``min(quantity, on_hand − reserved)`` (safety stock ignored); any
   shortfall flags the receipt ``stock_short`` (``details.lines`` = [{line_no, sku,
   short}]) — the sale itself is never refused.
8. Points paid (``sale.points_paid`` > 0), source key ``pos:<store>:<number>:spend``:
   with a ``hold_id`` → ``commit_hold`` (the hold must be a till hold of this store and
   receipt (source key ``pos:<store>:<number>:hold``), for this member and exactly these
   points — else 409 ``hold_receipt_mismatch``); a hold already committed with this
   receipt's spend key (the hold's commit endpoint) is not spent twice; a hold no longer
   held (lapsed, cancelled) is released if still held and the points are spent with
   ``spend_points`` instead. Not enough points (a late offline receipt) → nothing spent,
   ``points_spent`` = 0, flag ``points_unavailable``; the receipt is still applied.
9. ``record_purchase`` (channel ``store``, amount = ``sale.total``, source key
   ``pos:<store>:<number>``) — the member's tier spend.
10. Points earned, available at once: ``points_for_lines(rate=member.tier.points_per_cny,
    lines=[(sku_id, line_total)…], on=occurred_at date (local), points_value=
    sale.points_paid_value)``; each line's points on ``ReceiptLine.points_earned``, the sum
    posted by ``earn_points(pending=False, source_key="pos:<store>:<number>:earn")``
    (nothing when 0).
11. ``state`` = ``flagged`` when any flag was raised, else ``applied``.

No audit entries: the receipt is the record of a machine write (staff resolving a
flagged receipt is audited, ``resolve_flagged_receipt``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from omnimall.catalog import selectors as catalog_selectors
from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.inventory import services as inventory_services
from omnimall.inventory.models import LocationKind, StockLocation
from omnimall.members.models import HoldPurpose, Member, PointsHold, PurchaseChannel
from omnimall.members.selectors import members as member_selectors
from omnimall.members.services import earning as earning_services
from omnimall.members.services import identity as identity_services
from omnimall.members.services import points as points_services
from omnimall.members.services import purchases as purchase_services
from omnimall.pos import domain
from omnimall.pos.errors import (
    HoldReceiptMismatchError,
    InvalidPointsPaymentError,
    PaymentsMismatchError,
    ReceiptConflictError,
    ReceiptNotFlaggedError,
    UnknownMemberError,
    UnknownSkuError,
    UnknownStoreError,
    UnsupportedCurrencyError,
)
from omnimall.pos.models import Receipt, ReceiptLine, ReceiptSource, ReceiptState, TillReturn

# Codes A's points services raise when points cannot be taken (matched by code so this
# module does not depend on where the error classes live).
_POINTS_SHORT = "insufficient_points"
_HOLD_GONE = "points_hold_not_held"


@dataclass(frozen=True, slots=True)
class SaleResult:
    receipt_id: int
    number: str
    created: bool  # False: a replay of a receipt already recorded (nothing written)
    state: str
    flags: tuple[str, ...]  # flag codes

    @property
    def status(self) -> str:
        """``created`` | ``replayed`` | ``flagged`` (created, but needs staff)."""
        if not self.created:
            return "replayed"
        return "flagged" if self.state == ReceiptState.FLAGGED else "created"


def source_key(store_code: str, number: str, suffix: str = "") -> str:
    """``pos:<store>:<number>[:suffix]`` — the keys of a receipt's ledger entries."""
    key = f"pos:{store_code}:{number}"
    return f"{key}:{suffix}" if suffix else key


def store_code_of(store_id: int) -> str:
    """The code of a store location; 422 ``unknown_store`` when it is not a store."""
    code = (
        StockLocation.objects.filter(pk=store_id, kind=LocationKind.STORE)
        .values_list("code", flat=True)
        .first()
    )
    if code is None:
        raise UnknownStoreError(store_id=store_id)
    return code


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A member named at the till: found (``member_id``), or a new phone to enrol."""

    member_id: int | None
    phone: str = ""  # E.164, when the member is to be enrolled
    member: Member | None = None  # as found (with its tier)


def resolve_member(*, phone: str, card: str) -> MemberRef | None:
    """The member a till names (card first, then phone); None when neither is given.

    An unknown card → 422 ``unknown_member``; an invalid phone → 422 ``invalid_phone``;
    an unknown (valid) phone → ``MemberRef(None, phone)`` for the caller to enrol.
    """
    card, phone = card.strip(), phone.strip()
    if card:
        member = member_selectors.find_member(card=card)
        if member is None:
            raise UnknownMemberError(card=card)
        return MemberRef(member_id=member.pk, member=member)
    if not phone:
        return None
    normalised = normalise_phone(phone)
    member = member_selectors.find_member(phone=normalised)
    return MemberRef(member_id=member.pk if member else None, phone=normalised, member=member)


def normalise_phone(phone: str) -> str:
    """E.164 in ``MEMBER_DEFAULT_REGION``; 422 ``invalid_phone`` when it is not a mobile."""
    return identity_services.phone_e164(phone)


def member_for(ref: MemberRef | None, *, store_id: int, actor: Actor) -> Member | None:
    """The member of ``ref``, enrolling a new phone at ``store_id``. Inside a transaction."""
    if ref is None:
        return None
    if ref.member is not None:
        return ref.member
    if ref.member_id is not None:
        return Member.objects.select_related("tier").get(pk=ref.member_id)
    member = identity_services.enrol_member(
        phone=ref.phone, actor=actor, joined_store_id=store_id, home_store_id=store_id
    )
    return Member.objects.select_related("tier").get(pk=member.pk)


def record_sale(*, sale: domain.Sale, store_id: int, source: str, actor: Actor) -> SaleResult:
    """Apply one till receipt exactly once (see the module docstring for every rule).

    Raises ``UnknownStoreError``, ``UnknownSkuError``, ``UnknownMemberError``,
    members' ``InvalidPhoneNumberError``, ``InvalidPointsPaymentError``,
    ``UnsupportedCurrencyError``, ``PaymentsMismatchError``, the points ledger's
    ``InvalidPointsError`` (more than ``MAX_POINTS_PER_ENTRY`` earned or paid) (422),
    ``ReceiptConflictError``, ``HoldReceiptMismatchError`` (409). May be called inside a
    transaction (its own block is then a savepoint).
    """
    store_code = store_code_of(store_id)
    if store_code != sale.store_code:
        raise UnknownStoreError(store=sale.store_code)
    source = ReceiptSource(source).value  # ValueError for anything else: a caller's bug
    digest = sale.payload_hash()
    existing = _existing(sale, store_id=store_id, digest=digest)
    if existing is not None:
        return existing
    sku_ids = sku_ids_of([line.sku_code for line in sale.lines])
    _check_points_payments(sale)
    _check_settled(sale)
    member_ref = resolve_member(phone=sale.member_phone, card=sale.member_card)
    try:
        with transaction.atomic():
            return _apply(
                sale=sale,
                store_id=store_id,
                source=source,
                actor=actor,
                digest=digest,
                sku_ids=sku_ids,
                member_ref=member_ref,
            )
    except IntegrityError:
        # A concurrent post of the same receipt won the (store, number) index.
        existing = _existing(sale, store_id=store_id, digest=digest)
        if existing is None:
            raise
        return existing


def is_same_receipt(
    sale: domain.Sale,
    *,
    stored_hash: str,
    digest: str,
    stored_payments: Sequence[Mapping[str, Any]],
) -> bool:
    """Whether a receipt recorded with ``stored_hash`` and ``stored_payments`` says what
    ``sale`` says (``digest`` = ``sale.payload_hash()``).

    Older receipts kept the digest of what their till wrote: before amounts and times
    were normalised, of the whole body as written (``payload_hash_v1``); before payment
    methods were read into codes, of each method as written (kept on the stored payment
    as ``method_as_written`` by the migration that turned it into its code). Such a
    receipt is the same when its payments have the same codes and its digest is that of
    ``sale`` with those methods written as then.
    """
    if stored_hash == digest:
        return True
    if [p.get("method") for p in stored_payments] != [p.method for p in sale.payments]:
        return False
    written = [p.get("method_as_written", p["method"]) for p in stored_payments]
    return stored_hash in sale.payload_hashes_as_written(written)


def recorded_payments(*, store_id: int, number: str) -> list[dict[str, Any]]:
    """The stored payments of the receipt (store, number); [] when there is none."""
    payments = (
        Receipt.objects.filter(store_id=store_id, number=number)
        .values_list("payments", flat=True)
        .first()
    )
    return list(payments or [])


def _existing(sale: domain.Sale, *, store_id: int, digest: str) -> SaleResult | None:
    number = sale.number
    row = (
        Receipt.objects.filter(store_id=store_id, number=number)
        .values("pk", "payload_hash", "payments", "state", "flags")
        .first()
    )
    if row is None:
        return None
    same = is_same_receipt(
        sale,
        stored_hash=row["payload_hash"],
        digest=digest,
        stored_payments=row["payments"] or [],
    )
    if not same:
        raise ReceiptConflictError(receipt_number=number)
    return SaleResult(
        receipt_id=row["pk"],
        number=number,
        created=False,
        state=row["state"],
        flags=tuple(flag.get("code", "") for flag in row["flags"] or ()),
    )


def sku_ids_of(codes: Sequence[str]) -> dict[str, int]:
    """The SKU id of each code on a receipt or return; any unknown → ``UnknownSkuError``."""
    found = catalog_selectors.sku_ids_by_code(codes=codes)
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise UnknownSkuError(skus=unknown)
    return found


def _check_points_payments(sale: domain.Sale) -> None:
    if sale.points_paid <= 0:
        return
    if not sale.has_member:
        raise InvalidPointsPaymentError("A points payment needs the member (phone or card).")
    if sale.points_paid_value > sale.total:
        raise InvalidPointsPaymentError(
            "The points paid more than the receipt's total.",
            points_value=str(sale.points_paid_value),
            total=str(sale.total),
        )
    holds = [p.hold_id for p in sale.payments if p.hold_id]
    if len(holds) > 1:
        raise InvalidPointsPaymentError("At most one points payment may name a hold.")


def _check_settled(sale: domain.Sale) -> None:
    currency = settings.DEFAULT_CURRENCY
    if sale.is_settled_in(currency):
        return
    if sale.currency != currency:
        raise UnsupportedCurrencyError(
            f"The receipt is in {sale.currency}; this shop records receipts in {currency}. "
            "Nothing was recorded.",
            currency=sale.currency,
            shop_currency=currency,
        )
    raise PaymentsMismatchError(
        f"The payments add up to {sale.paid} {currency} but the receipt's total is "
        f"{sale.total} {currency}. Nothing was recorded.",
        paid=str(sale.paid),
        total=str(sale.total),
    )


def _flag(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **details}


def _apply(
    *,
    sale: domain.Sale,
    store_id: int,
    source: str,
    actor: Actor,
    digest: str,
    sku_ids: dict[str, int],
    member_ref: MemberRef | None,
) -> SaleResult:
    receipt = Receipt.objects.create(
        store_id=store_id,
        number=sale.number,
        occurred_at=sale.occurred_at,
        currency=sale.currency,
        total=sale.total,
        discount_total=sale.discount_total,
        payments=[
            {
                "method": p.method,
                "amount": str(p.amount),
                **({"points": p.points} if p.points else {}),
                **({"hold_id": p.hold_id} if p.hold_id else {}),
            }
            for p in sale.payments
        ],
        source=source,
        payload_hash=digest,
    )
    member = member_for(member_ref, store_id=store_id, actor=actor)
    flags: list[dict[str, Any]] = []

    sold = inventory_services.sell_lines_at_store(
        location_id=store_id,
        lines=[(sku_ids[line.sku_code], line.quantity) for line in sale.lines],
        actor=actor,
        reference=source_key(sale.store_code, sale.number),
    )
    short = [
        {"line_no": line.line_no, "sku": line.sku_code, "short": result.short}
        for line, result in zip(sale.lines, sold, strict=True)
        if result.short
    ]
    if short:
        flags.append(
            _flag("stock_short", "The store's stock was short for some lines.", lines=short)
        )

    points_spent = 0
    if member is not None and sale.points_paid > 0:
        points_spent = _take_points(sale=sale, member=member, actor=actor, flags=flags)

    line_points = [0] * len(sale.lines)
    if member is not None:
        line_points = _earn(sale=sale, member=member, sku_ids=sku_ids, actor=actor)
        purchase_services.record_purchase(
            member_id=member.pk,
            channel=PurchaseChannel.STORE,
            store_id=store_id,
            document=sale.number,
            source_key=source_key(sale.store_code, sale.number),
            amount=sale.total,
            occurred_at=sale.occurred_at,
            actor=actor,
        )

    ReceiptLine.objects.bulk_create(
        ReceiptLine(
            receipt=receipt,
            line_no=line.line_no,
            sku_id=sku_ids[line.sku_code],
            sku_code=line.sku_code,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            line_total=line.line_total,
            points_earned=points,
        )
        for line, points in zip(sale.lines, line_points, strict=True)
    )
    receipt.member = member
    receipt.points_spent = points_spent
    receipt.points_earned = sum(line_points)
    receipt.flags = flags
    receipt.state = ReceiptState.FLAGGED if flags else ReceiptState.APPLIED
    receipt.save(update_fields=["member", "points_spent", "points_earned", "flags", "state"])
    return SaleResult(
        receipt_id=receipt.pk,
        number=receipt.number,
        created=True,
        state=receipt.state,
        flags=tuple(flag["code"] for flag in flags),
    )


def _take_points(
    *, sale: domain.Sale, member: Member, actor: Actor, flags: list[dict[str, Any]]
) -> int:
    """Commit the till's hold, or spend; 0 (and a flag) when the points are not there."""
    points = sale.points_paid
    key = source_key(sale.store_code, sale.number, "spend")
    hold_id = next((p.hold_id for p in sale.payments if p.hold_id), None)
    if hold_id is not None:
        _check_hold(hold_id=hold_id, sale=sale, member=member, points=points)
        try:
            with transaction.atomic():
                points_services.commit_hold(
                    hold_id=hold_id, source_key=key, actor=actor, document=sale.number
                )
        except DomainError as refused:
            if refused.code != _HOLD_GONE:
                raise
            # The hold lapsed (or was cancelled) before the receipt arrived: give back
            # what it still holds, then spend like a receipt without a hold.
            points_services.release_hold(
                hold_id=hold_id, actor=actor, reason="lapsed before the sale", expired=True
            )
        else:
            return points
    try:
        with transaction.atomic():
            points_services.spend_points(
                member_id=member.pk,
                points=points,
                source_key=key,
                document=sale.number,
                actor=actor,
            )
    except DomainError as refused:
        if refused.code != _POINTS_SHORT:
            raise
        flags.append(
            _flag(
                "points_unavailable",
                "The member no longer had the points this receipt was paid with; "
                "nothing was spent.",
                points=points,
                hold_id=hold_id,
            )
        )
        return 0
    return points


def _check_hold(*, hold_id: int, sale: domain.Sale, member: Member, points: int) -> None:
    """409 unless the hold is this store's till hold for this receipt, member and points."""
    hold = (
        PointsHold.objects.filter(pk=hold_id)
        .values("member_id", "purpose", "source_key", "points")
        .first()
    )
    if (
        hold is None
        or hold["purpose"] != HoldPurpose.POS
        or hold["source_key"] != source_key(sale.store_code, sale.number, "hold")
        or hold["member_id"] != member.pk
        or hold["points"] != points
    ):
        raise HoldReceiptMismatchError(hold_id=hold_id, receipt_number=sale.number)


def _local_day(at: datetime) -> Any:
    return timezone.localdate(at) if timezone.is_aware(at) else at.date()


def _earn(*, sale: domain.Sale, member: Member, sku_ids: dict[str, int], actor: Actor) -> list[int]:
    line_points = earning_services.points_for_lines(
        rate=member.tier.points_per_cny,
        lines=[(sku_ids[line.sku_code], line.line_total) for line in sale.lines],
        on=_local_day(sale.occurred_at),
        points_value=sale.points_paid_value,
    )
    total = sum(line_points)
    if total > 0:
        points_services.earn_points(
            member_id=member.pk,
            points=total,
            source_key=source_key(sale.store_code, sale.number, "earn"),
            document=sale.number,
            actor=actor,
            pending=False,
            now=None,
        )
    return [int(points) for points in line_points]


def resolve_flagged_receipt(*, receipt_id: int, actor: Actor, note: str) -> Receipt:
    """Staff dealt with a flagged receipt (stock counted, points settled with the member).

    The flags stay for the record, each with who resolved it and the note; the state
    becomes ``applied``. Audited.
    """
    note = (note or "").strip()
    with transaction.atomic():
        receipt = Receipt.objects.select_for_update().get(pk=receipt_id)
        if receipt.state != ReceiptState.FLAGGED:
            raise ReceiptNotFlaggedError(receipt_number=receipt.number)
        receipt.flags = [
            {**flag, "resolved_by": actor.label, "resolution": note} for flag in receipt.flags
        ]
        receipt.state = ReceiptState.APPLIED
        receipt.save(update_fields=["flags", "state"])
        audit.record(
            actor=actor,
            action="pos.receipt_resolved",
            subject=receipt,
            changes={"state": [ReceiptState.FLAGGED, ReceiptState.APPLIED]},
            reason=note,
        )
    return receipt


def reassign_member(*, from_member_id: int, to_member_id: int) -> None:
    """Move a merged member's till receipts and returns to the survivor.

    For ``members`` merging duplicates: runs inside the caller's transaction (the merge),
    which has locked both members.
    """
    Receipt.objects.filter(member_id=from_member_id).update(member_id=to_member_id)
    TillReturn.objects.filter(member_id=from_member_id).update(member_id=to_member_id)
