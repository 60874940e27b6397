"""Reads of the partner points exchange: rates, transfers, statement rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from omnimall.members.models import (
    Partner,
    PartnerRate,
    PartnerTransfer,
    TransferDirection,
)

from .domain import StatementRow


def rate_on(*, partner_id: int, direction: str, day: date) -> Decimal | None:
    """The rate valid on ``day``: the latest one whose ``valid_from`` is not after it."""
    return (
        PartnerRate.objects.filter(partner_id=partner_id, direction=direction, valid_from__lte=day)
        .order_by("-valid_from")
        .values_list("brand_points_per_partner_point", flat=True)
        .first()
    )


def get_partner(code: str) -> Partner | None:
    return Partner.objects.filter(code=code).first()


def find_transfer(
    *, partner_id: int, direction: str, transaction_id: str
) -> PartnerTransfer | None:
    return (
        PartnerTransfer.objects.select_related("member", "partner")
        .filter(partner_id=partner_id, direction=direction, transaction_id=transaction_id)
        .first()
    )


def transfer_view(transfer: PartnerTransfer) -> dict[str, Any]:
    """What the partner API answers for a transfer (the same body on every replay)."""
    return {
        "transaction_id": transfer.transaction_id,
        "direction": transfer.direction,
        "state": transfer.state,
        "member": {"card_number": transfer.member.card_number},
        "partner_account": transfer.partner_account,
        "partner_points": transfer.partner_points,
        "brand_points": transfer.brand_points,
        "rate": str(transfer.rate),
        "partner_reference": transfer.partner_reference,
        "failure": transfer.failure,
        "created_at": transfer.created_at.isoformat(),
    }


# --- statements ------------------------------------------------------------------------


def day_window(first: date, last: date | None = None) -> tuple[datetime, datetime]:
    """[start, end) of the shop's days ``first``..``last`` (TIME_ZONE)."""
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine((last or first) + timedelta(days=1), time.min))
    return start, end


def _row(transfer: PartnerTransfer) -> StatementRow:
    return StatementRow(
        transaction_id=transfer.transaction_id,
        direction=transfer.direction,
        member_card=transfer.member.card_number,
        partner_points=transfer.partner_points,
        brand_points=transfer.brand_points,
        state=transfer.state,
        time=timezone.localtime(transfer.created_at),
        partner_account=transfer.partner_account,
    )


def statement_rows(*, partner_id: int, start: datetime, end: datetime) -> Iterator[StatementRow]:
    """Our transfers with the partner created in [start, end), oldest first (streamed)."""
    transfers = (
        PartnerTransfer.objects.filter(
            partner_id=partner_id, created_at__gte=start, created_at__lt=end
        )
        .select_related("member")
        .order_by("created_at", "pk")
    )
    for transfer in transfers.iterator(chunk_size=1000):
        yield _row(transfer)


def rows_by_key(
    *, partner_id: int, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], StatementRow]:
    """Our transfers named in a partner's file, by (direction, transaction_id)."""
    wanted = list(keys)
    found: dict[tuple[str, str], StatementRow] = {}
    for direction in TransferDirection.values:
        ids = [txn for d, txn in wanted if d == direction]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for transfer in PartnerTransfer.objects.filter(
                partner_id=partner_id, direction=direction, transaction_id__in=chunk
            ).select_related("member"):
                found[(direction, transfer.transaction_id)] = _row(transfer)
    return found


# --- member centre ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartnerOffer:
    partner_id: int
    code: str
    name: str
    rate: Decimal  # brand points per partner point, today, outbound
    daily_limit: int


def outbound_offers(*, day: date) -> list[PartnerOffer]:
    """Active partners a member can send points to today (with an outbound URL and rate)."""
    offers = []
    partners = Partner.objects.filter(is_active=True).exclude(outbound_url="").order_by("name")
    for partner in partners:
        rate = rate_on(partner_id=partner.pk, direction=TransferDirection.OUTBOUND, day=day)
        if rate is not None:
            offers.append(
                PartnerOffer(
                    partner_id=partner.pk,
                    code=partner.code,
                    name=partner.name,
                    rate=rate,
                    daily_limit=partner.outbound_daily_limit,
                )
            )
    return offers


def member_transfers(*, member_id: int, limit: int = 20) -> list[PartnerTransfer]:
    return list(
        PartnerTransfer.objects.filter(member_id=member_id)
        .select_related("partner")
        .order_by("-created_at", "-pk")[:limit]
    )
