"""Points transfers with partners: what both directions share, and inbound (partner →
brand). Outbound (brand → partner, two-step through the outbox) is in ``outbound``.

Inbound (``receive_transfer``): one transaction — member row locked, the partner's
transaction id claimed under the unique (partner, direction, transaction_id), the day's
limit checked, the points posted (``points.transfer_in``). A replay with the same
request returns the first transfer; another request under the same id → 409.

Every transfer is one ``PartnerTransfer`` under the unique (partner, direction,
transaction_id); its points move only through the points ledger (``points``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.members import domain as members_domain
from omnimall.members.models import (
    Member,
    Partner,
    PartnerTransfer,
    TransferDirection,
    TransferState,
)
from omnimall.members.selectors.members import find_member
from omnimall.members.services import points

from . import domain, selectors
from .errors import (
    DailyLimitExceededError,
    MemberNotFoundError,
    NoRateError,
    TooFewPointsError,
    TransferConflictError,
)

if TYPE_CHECKING:
    from decimal import Decimal


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    transfer: PartnerTransfer
    created: bool  # False: a replay of an earlier request


def source_key(partner: Partner, direction: str, transaction_id: str) -> str:
    return f"partner:{partner.code}:{direction}:{transaction_id}"


def document_for(partner: Partner, transaction_id: str) -> str:
    return f"partner:{partner.code}:{transaction_id}"[:80]


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The shop's day (TIME_ZONE, Asia/Shanghai) around ``now``."""
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def used_today(
    *, partner: Partner, member_id: int, direction: str, now: datetime, states: tuple[str, ...]
) -> int:
    start, end = day_bounds(now)
    total = PartnerTransfer.objects.filter(
        partner=partner,
        member_id=member_id,
        direction=direction,
        state__in=states,
        created_at__gte=start,
        created_at__lt=end,
    ).aggregate(total=Sum("brand_points"))["total"]
    return int(total or 0)


def lock_member(member_id: int) -> None:
    # Serialises a member's transfers, so the daily limit cannot be overrun by a race.
    Member.objects.select_for_update().filter(pk=member_id).values_list("pk").first()


def rate_for(partner: Partner, direction: str, now: datetime) -> Decimal:
    rate = selectors.rate_on(
        partner_id=partner.pk, direction=direction, day=timezone.localdate(now)
    )
    if rate is None:
        raise NoRateError(direction=direction, day=timezone.localdate(now).isoformat())
    return rate


def transfer_fingerprint(asked: dict[str, object], partner_account: str) -> str:
    """What a transfer request asked, as a fingerprint. The partner account counts only
    when given, so transfers recorded before it was kept replay as they did."""
    if partner_account:
        asked = {**asked, "partner_account": partner_account}
    return domain.payload_hash(asked)


def replay(existing: PartnerTransfer, fingerprint: str) -> TransferOutcome:
    if existing.payload_hash != fingerprint:
        raise TransferConflictError(transaction_id=existing.transaction_id)
    return TransferOutcome(transfer=existing, created=False)


# --- inbound ---------------------------------------------------------------------------


def _inbound_fingerprint(*, phone: str, card: str, partner_points: int, account: str) -> str:
    try:
        region = getattr(settings, "MEMBER_DEFAULT_REGION", "CN")
        phone = members_domain.normalise_phone(phone, region=region) if phone else ""
    except members_domain.InvalidPhoneError:
        phone = phone.strip()
    return transfer_fingerprint(
        {"phone": phone, "card": card.strip(), "partner_points": partner_points}, account
    )


@transaction.atomic
def receive_transfer(
    *,
    partner: Partner,
    transaction_id: str,
    phone: str,
    card: str,
    partner_points: int,
    actor: Actor,
    partner_account: str = "",
    now: datetime | None = None,
) -> TransferOutcome:
    """A partner converts ``partner_points`` of its member (``partner_account`` in its
    programme, optional) into brand points."""
    now = now or clock.now()
    partner_account = partner_account.strip()
    fingerprint = _inbound_fingerprint(
        phone=phone, card=card, partner_points=partner_points, account=partner_account
    )
    existing = selectors.find_transfer(
        partner_id=partner.pk, direction=TransferDirection.INBOUND, transaction_id=transaction_id
    )
    if existing is not None:
        return replay(existing, fingerprint)
    member = find_member(phone=phone, card=card)
    if member is None:
        raise MemberNotFoundError()
    rate = rate_for(partner, TransferDirection.INBOUND, now)
    brand_points = domain.brand_points_in(partner_points, rate)
    if brand_points <= 0:
        raise TooFewPointsError(partner_points=partner_points, rate=str(rate))
    lock_member(member.pk)
    # Read again under the lock: a concurrent copy of this request may have committed.
    existing = selectors.find_transfer(
        partner_id=partner.pk, direction=TransferDirection.INBOUND, transaction_id=transaction_id
    )
    if existing is not None:
        return replay(existing, fingerprint)
    used = used_today(
        partner=partner,
        member_id=member.pk,
        direction=TransferDirection.INBOUND,
        now=now,
        states=(TransferState.COMPLETED,),
    )
    if used + brand_points > partner.inbound_daily_limit:
        raise DailyLimitExceededError(
            limit=partner.inbound_daily_limit, used_today=used, requested=brand_points
        )
    try:
        with transaction.atomic():
            transfer = PartnerTransfer.objects.create(
                partner=partner,
                direction=TransferDirection.INBOUND,
                transaction_id=transaction_id,
                member=member,
                partner_account=partner_account,
                partner_points=partner_points,
                brand_points=brand_points,
                rate=rate,
                state=TransferState.COMPLETED,
                payload_hash=fingerprint,
            )
    except IntegrityError:  # the same id for another member, committed meanwhile
        raced = selectors.find_transfer(
            partner_id=partner.pk,
            direction=TransferDirection.INBOUND,
            transaction_id=transaction_id,
        )
        if raced is None:
            raise
        return replay(raced, fingerprint)
    points.transfer_in(
        member_id=member.pk,
        points=brand_points,
        source_key=source_key(partner, TransferDirection.INBOUND, transaction_id),
        document=document_for(partner, transaction_id),
        actor=actor,
    )
    return TransferOutcome(transfer=transfer, created=True)
