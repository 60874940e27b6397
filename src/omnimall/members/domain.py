"""Points and member arithmetic: pure Python, no Django.

Points are whole numbers. Earning rounds down (a shopper never gets a fraction the
brand did not promise); shares of a whole (a refunded part of an order) round half up,
and callers reverse *cumulatively* (``share(total, done + part, whole) - already``) so
the parts of a fully returned order add up to exactly what was earned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import phonenumbers

CENT = Decimal("0.01")

# The most points one ledger entry moves (an earn, a spend, a hold, a transfer, …): a
# billion, ¥10,000,000 at 100 points to the yuan. An entry's deltas and a lot's or a hold's
# points are 32-bit integers on PostgreSQL (at most 2,147,483,647; SQLite's are 64-bit),
# so any entry fits; the cached balances, sums of entries, are 64-bit on both.
MAX_POINTS_PER_ENTRY = 1_000_000_000
# A tier's points per CNY and an earning rule's boost: at their highest together 100
# points per yuan, so a purchase of ¥10,000,000 (the most a till receipt comes to) earns
# at most MAX_POINTS_PER_ENTRY. The model validators hold the settings to these.
MAX_POINTS_PER_CNY = Decimal("10.00")
MAX_EARN_MULTIPLIER = Decimal("10.00")


# The audit action of a tier move, whichever path made it (purchase, batch, nightly run).
TIER_CHANGED = "member.tier_changed"


class InvalidPhoneError(ValueError):
    """Not a mobile number we can store as E.164."""


def normalise_phone(raw: str, *, region: str = "CN") -> str:
    """``raw`` as E.164 (``+8613800138000``); numbers without ``+`` are read in ``region``."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidPhoneError(raw)
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneError(raw) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneError(raw)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_phone(e164: str, *, region: str = "CN") -> str:
    """A stored E.164 number as people in ``region`` type it (``13800138000``); a number
    from elsewhere stays in E.164."""
    try:
        parsed = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(parsed) != region:
        return e164
    return str(parsed.national_number)


def earned_points(amount: Decimal, *, rate: Decimal, multiplier: Decimal = Decimal(1)) -> int:
    """Points for spending ``amount`` at ``rate`` points per CNY, rounded down; never < 0."""
    if amount <= 0:
        return 0
    return int((amount * rate * multiplier).to_integral_value(rounding=ROUND_DOWN))


def share(points: int, part: Decimal, whole: Decimal) -> int:
    """``points × part / whole`` rounded half up, within ``0..points``."""
    if points <= 0 or whole <= 0 or part <= 0:
        return 0
    if part >= whole:
        return points
    value = (Decimal(points) * part / whole).to_integral_value(rounding=ROUND_HALF_UP)
    return max(0, min(points, int(value)))


def points_value(points: int, *, points_per_cny: int) -> Decimal:
    """What ``points`` are worth in CNY (100 points = 1 CNY by default), to the cent."""
    return (Decimal(points) / Decimal(points_per_cny)).quantize(CENT, rounding=ROUND_HALF_UP)


def max_points_for(total: Decimal, *, points_per_cny: int, max_share: Decimal) -> int:
    """The most points an order of ``total`` may be paid with (a share of it, rounded down)."""
    if total <= 0:
        return 0
    return int((total * max_share * points_per_cny).to_integral_value(rounding=ROUND_DOWN))


@dataclass(frozen=True, slots=True)
class Lot:
    lot_id: int
    remaining: int
    expires_at: datetime


def take_from_lots(lots: Iterable[Lot], points: int) -> dict[int, int]:
    """Which lots give ``points``: soonest-expiring first. {lot_id: points}.

    Raises ValueError when the lots hold fewer than ``points``.
    """
    taken: dict[int, int] = {}
    wanted = points
    for lot in sorted(lots, key=lambda lot: (lot.expires_at, lot.lot_id)):
        if wanted <= 0:
            break
        take = min(lot.remaining, wanted)
        if take > 0:
            taken[lot.lot_id] = take
            wanted -= take
    if wanted > 0:
        raise ValueError(f"lots hold {points - wanted} of {points} points")
    return taken


@dataclass(frozen=True, slots=True)
class TierRule:
    code: str
    rank: int
    min_spend: Decimal


def tier_for(spend: Decimal, tiers: Iterable[TierRule]) -> TierRule:
    """The highest tier whose minimum 12-month spend ``spend`` reaches."""
    ordered = sorted(tiers, key=lambda tier: tier.rank)
    reached = [tier for tier in ordered if spend >= tier.min_spend]
    return reached[-1] if reached else ordered[0]


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus ``months`` calendar months; the day clamps to the month's last day."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    days_in_month = (31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return moment.replace(year=year, month=month, day=min(moment.day, days_in_month[month - 1]))


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
