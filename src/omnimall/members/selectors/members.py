"""Reads of members: lookups by phone, card or account; the member centre summary; the 360.

``find_member`` follows merges: a merged duplicate's phone or card gives the member it
was merged into, so a till or a partner holding an old card still reaches the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings

from omnimall.members.domain import TIER_CHANGED, InvalidPhoneError, normalise_phone
from omnimall.members.errors import InvalidPhoneNumberError
from omnimall.members.models import Member, MemberNote, MemberPurchase, Tier

from .points import PointsLine, points_history

MAX_MERGE_HOPS = 10


def _survivor(member: Member | None) -> Member | None:
    hops = 0
    while member is not None and member.merged_into_id is not None and hops < MAX_MERGE_HOPS:
        member = (
            Member.objects.select_related("tier", "home_store")
            .filter(pk=member.merged_into_id)
            .first()
        )
        hops += 1
    return member


def find_member(*, phone: str = "", card: str = "") -> Member | None:
    """The (surviving) member with this mobile number or card number; None if none.

    ``phone`` in any usual form (``138 0013 8000``, ``+86…``), read in
    ``MEMBER_DEFAULT_REGION``; raises ``InvalidPhoneNumberError`` (422) when it is not a
    mobile number at all. ``card`` ignores spaces.
    """
    members = Member.objects.select_related("tier", "home_store")
    if phone:
        region = getattr(settings, "MEMBER_DEFAULT_REGION", "CN")
        try:
            e164 = normalise_phone(phone, region=region)
        except InvalidPhoneError:
            raise InvalidPhoneNumberError(phone=str(phone)[:32]) from None
        return _survivor(members.filter(phone=e164).first())
    squeezed = "".join(card.split())
    if squeezed:
        return _survivor(members.filter(card_number=squeezed).first())
    return None


def member_for_user(user_id: int | None) -> Member | None:
    """The member linked to this storefront account, if any."""
    if user_id is None:
        return None
    return (
        Member.objects.select_related("tier", "home_store")
        .filter(user_id=user_id, is_active=True)
        .first()
    )


def mask_phone(phone: str) -> str:
    """``+8613800138000`` → ``+86 138****8000``: enough for the shopper to recognise."""
    if phone.startswith("+86") and len(phone) == 14:
        return f"+86 {phone[3:6]}****{phone[-4:]}"
    if len(phone) <= 6:
        return phone
    return f"{phone[:4]}{'*' * (len(phone) - 8)}{phone[-4:]}"


def group_card(card: str) -> str:
    """``123456789012`` → ``1234 5678 9012`` (as printed on the card)."""
    return " ".join(card[i : i + 4] for i in range(0, len(card), 4))


@dataclass(frozen=True, slots=True)
class TierView:
    code: str
    name: str
    rank: int
    min_spend: Decimal
    points_per_cny: Decimal


@dataclass(frozen=True, slots=True)
class TierProgress:
    """Where the member stands: spend so far, the next tier and how far it is."""

    current: TierView
    next: TierView | None
    spend: Decimal
    to_next: Decimal  # CNY still to spend in 12 months for the next tier (0 at the top)
    percent: int  # 0..100 of the way from the current tier's floor to the next's


@dataclass(frozen=True, slots=True)
class MemberSummary:
    member_id: int
    card_number: str
    card_grouped: str
    name: str
    phone: str
    phone_masked: str
    email: str
    home_store_id: int | None
    home_store_name: str
    progress: TierProgress
    points_available: int
    points_pending: int
    points_held: int
    points_value: Decimal  # what the available points are worth in CNY
    consent: dict[str, bool]
    joined_at: datetime
    is_active: bool


def tier_name(tier: Tier, language: str | None = None) -> str:
    from django.utils import translation

    lang = language or translation.get_language() or "en"
    return tier.name_zh if lang.lower().startswith("zh") and tier.name_zh else tier.name_en


def _tier_view(tier: Tier) -> TierView:
    return TierView(
        code=tier.code,
        name=tier_name(tier),
        rank=tier.rank,
        min_spend=tier.min_spend,
        points_per_cny=tier.points_per_cny,
    )


def list_tiers() -> list[TierView]:
    """Every tier, lowest first (the shop's membership page)."""
    return [_tier_view(tier) for tier in Tier.objects.order_by("rank")]


def tier_progress(member: Member, tiers: list[Tier] | None = None) -> TierProgress:
    """Progress from the member's tier to the next by 12-month spend."""
    tiers = tiers if tiers is not None else list(Tier.objects.order_by("rank"))
    current = member.tier
    higher = [t for t in tiers if t.rank > current.rank]
    following = higher[0] if higher else None
    spend = member.rolling_spend
    if following is None:
        return TierProgress(_tier_view(current), None, spend, Decimal(0), 100)
    floor, goal = current.min_spend, following.min_spend
    span = goal - floor
    done = spend - floor
    ratio = Decimal(0) if span <= 0 else max(Decimal(0), min(Decimal(1), done / span))
    percent = int((ratio * 100).to_integral_value(rounding=ROUND_DOWN))
    to_next = max(Decimal(0), goal - spend)
    return TierProgress(_tier_view(current), _tier_view(following), spend, to_next, percent)


def _summary(member: Member, tiers: list[Tier] | None = None) -> MemberSummary:
    per_cny = int(getattr(settings, "POINTS_PER_CNY_VALUE", 100))
    home = member.home_store
    return MemberSummary(
        member_id=member.pk,
        card_number=member.card_number,
        card_grouped=group_card(member.card_number),
        name=member.name,
        phone=member.phone,
        phone_masked=mask_phone(member.phone),
        email=member.email,
        home_store_id=member.home_store_id,
        home_store_name=(home.name_zh if _zh() else home.name_en) if home else "",
        progress=tier_progress(member, tiers),
        points_available=member.points_available,
        points_pending=member.points_pending,
        points_held=member.points_held,
        points_value=(Decimal(member.points_available) / per_cny).quantize(Decimal("0.01")),
        consent={
            "sms": member.consent_sms,
            "email": member.consent_email,
            "wechat": member.consent_wechat,
        },
        joined_at=member.created_at,
        is_active=member.is_active,
    )


def _zh() -> bool:
    from django.utils import translation

    return (translation.get_language() or "en").lower().startswith("zh")


def member_summary(member_id: int) -> MemberSummary | None:
    member = Member.objects.select_related("tier", "home_store").filter(pk=member_id).first()
    return None if member is None else _summary(member)


@dataclass(frozen=True, slots=True)
class PurchaseView:
    occurred_at: datetime
    channel: str
    channel_label: str
    store_name: str
    document: str
    amount: Decimal
    link: str  # the back-office page of the order or receipt ("" when unknown)


@dataclass(frozen=True, slots=True)
class TierChangeView:
    changed_at: datetime
    from_tier: str
    to_tier: str
    rolling_spend: str  # the 12-month spend that decided it
    by: str  # "tiers" for the automatic moves


@dataclass(frozen=True, slots=True)
class Member360:
    member: Member
    summary: MemberSummary
    purchases: list[PurchaseView]
    purchase_count: int
    lifetime_spend: Decimal
    notes: list[MemberNote]
    points_history: list[PointsLine]
    merged_members: list[Member]
    linked_account: str
    tier_changes: list[TierChangeView]


def _purchase_links(purchases: list[MemberPurchase]) -> dict[int, str]:
    """Admin links for the online orders and till receipts behind purchases."""
    from django.urls import NoReverseMatch, reverse

    from omnimall.orders.models import Order
    from omnimall.pos.models import Receipt

    numbers = {p.document for p in purchases if p.channel == "online"}
    orders = dict(Order.objects.filter(number__in=numbers).values_list("number", "pk"))
    receipt_keys = {(p.store_id, p.document) for p in purchases if p.channel == "store"}
    receipt_numbers = {number for _store, number in receipt_keys}
    receipts: dict[tuple[int | None, str], int] = {
        (store_id, number): pk
        for pk, store_id, number in Receipt.objects.filter(number__in=receipt_numbers).values_list(
            "pk", "store_id", "number"
        )
    }
    links: dict[int, str] = {}
    for purchase in purchases:
        try:
            if purchase.channel == "online" and purchase.document in orders:
                links[purchase.pk] = reverse(
                    "admin:orders_order_change", args=[orders[purchase.document]]
                )
            elif (purchase.store_id, purchase.document) in receipts:
                links[purchase.pk] = reverse(
                    "admin:pos_receipt_change",
                    args=[receipts[(purchase.store_id, purchase.document)]],
                )
        except NoReverseMatch:  # the receipt admin is not registered
            continue
    return links


def member_purchases(member_id: int, *, limit: int = 50) -> list[PurchaseView]:
    from omnimall.members.models import PurchaseChannel

    rows = list(
        MemberPurchase.objects.filter(member_id=member_id)
        .select_related("store")
        .order_by("-occurred_at", "-id")[:limit]
    )
    links = _purchase_links(rows)
    labels = dict(PurchaseChannel.choices)
    zh = _zh()
    return [
        PurchaseView(
            occurred_at=row.occurred_at,
            channel=row.channel,
            channel_label=str(labels.get(row.channel, row.channel)),
            store_name=(row.store.name_zh if zh else row.store.name_en) if row.store else "",
            document=row.document,
            amount=row.amount,
            link=links.get(row.pk, ""),
        )
        for row in rows
    ]


def tier_changes_of(
    member_id: int, *, limit: int = 20, tiers: list[Tier] | None = None
) -> list[TierChangeView]:
    """The member's tier moves, newest first, from the audit trail (every path that moves
    a tier writes ``member.tier_changed``: a purchase, a return, a batch, the nightly run).
    ``tiers``: the tier list when the caller has read it already (to name the codes)."""
    from django.contrib.contenttypes.models import ContentType

    from omnimall.core.models import AuditEntry

    tiers = tiers if tiers is not None else list(Tier.objects.all())
    names = {tier.code: tier_name(tier) for tier in tiers}
    entries = AuditEntry.objects.filter(
        action=TIER_CHANGED,
        subject_type=ContentType.objects.get_for_model(Member),
        subject_id=str(member_id),
    ).order_by("-created_at", "-id")[:limit]
    views = []
    for entry in entries:
        before, after = (entry.changes.get("tier") or ["", ""])[:2]
        views.append(
            TierChangeView(
                changed_at=entry.created_at,
                from_tier=names.get(before, before),
                to_tier=names.get(after, after),
                rolling_spend=(entry.changes.get("rolling_spend") or ["", ""])[-1],
                by=entry.actor_label,
            )
        )
    return views


def points_history_of(member_id: int, *, limit: int = 50) -> list[PointsLine]:
    """The points ledger, newest first (``selectors.points.points_history``)."""
    return points_history(member_id, limit=limit)


def member_360(member_id: int) -> Member360 | None:
    """Everything customer service needs on one page."""
    from django.db.models import Count, Sum

    member = (
        Member.objects.select_related("tier", "home_store", "user", "merged_into")
        .filter(pk=member_id)
        .first()
    )
    if member is None:
        return None
    totals = MemberPurchase.objects.filter(member_id=member_id).aggregate(
        count=Count("id"), total=Sum("amount")
    )
    tiers = list(Tier.objects.order_by("rank"))  # for the progress bar and the history
    return Member360(
        member=member,
        summary=_summary(member, tiers),
        purchases=member_purchases(member_id),
        purchase_count=totals["count"] or 0,
        lifetime_spend=totals["total"] or Decimal(0),
        notes=list(MemberNote.objects.filter(member_id=member_id).order_by("-created_at", "-id")),
        points_history=points_history_of(member_id),
        merged_members=list(Member.objects.filter(merged_into_id=member_id).order_by("pk")),
        linked_account=member.user.get_username() if member.user else "",
        tier_changes=tier_changes_of(member_id, tiers=tiers),
    )
