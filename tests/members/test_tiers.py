"""Purchases and tiers from rolling 12-month spend across channels."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.core.models import AuditEntry
from omnimall.members.errors import PurchaseConflictError
from omnimall.members.models import Member, MemberPurchase
from omnimall.members.selectors.members import member_summary
from omnimall.members.services.identity import enrol_member
from omnimall.members.services.purchases import (
    PurchaseRow,
    record_purchase,
    record_purchases_bulk,
)
from omnimall.members.services.tiers import (
    recalculate_all_tiers,
    recalculate_tier,
    window_start,
)

ACTOR = Actor.system("tier-tests")
pytestmark = pytest.mark.django_db


def _member(phone: str = "13900139000") -> Member:
    return enrol_member(phone=phone, actor=ACTOR)


def _buy(member: Member, amount: str, key: str, *, when: datetime | None = None, channel="online"):
    return record_purchase(
        member_id=member.pk,
        channel=channel,
        store_id=None,
        document=key,
        source_key=f"test:{key}",
        amount=Decimal(amount),
        occurred_at=when or clock.now(),
        actor=ACTOR,
    )


def test_record_purchase_moves_the_member_up_a_tier_with_an_audit_entry():
    member = _member()

    _buy(member, "2000.00", "o1")
    _buy(member, "1000.00", "r1", channel="store")

    member.refresh_from_db()
    assert member.rolling_spend == Decimal("3000.00")
    assert member.tier.code == "silver"
    assert member.tier_changed_at is not None
    entry = AuditEntry.objects.get(action="member.tier_changed", subject_id=str(member.pk))
    assert entry.changes["tier"] == ["standard", "silver"]


def test_record_purchase_posts_once_per_source_key():
    member = _member()

    first = _buy(member, "500.00", "o2")
    again = _buy(member, "500.00", "o2")

    assert first is not None
    assert again is None
    assert MemberPurchase.objects.count() == 1
    member.refresh_from_db()
    assert member.rolling_spend == Decimal("500.00")


def test_record_purchase_refuses_the_same_key_with_another_amount():
    member = _member()
    _buy(member, "500.00", "o3")

    with pytest.raises(PurchaseConflictError) as refused:
        _buy(member, "501.00", "o3")

    assert refused.value.status == 409


def test_a_return_brings_the_member_back_down():
    member = _member()
    _buy(member, "3500.00", "o4")

    _buy(member, "-600.00", "o4-return")

    member.refresh_from_db()
    assert member.rolling_spend == Decimal("2900.00")
    assert member.tier.code == "standard"


def test_purchases_older_than_twelve_months_do_not_count():
    member = _member()
    now = clock.now()
    _buy(member, "20000.00", "old", when=now - timedelta(days=400))
    _buy(member, "3000.00", "new", when=now - timedelta(days=10))

    tier = recalculate_tier(member_id=member.pk, now=now)

    assert tier.code == "silver"
    member.refresh_from_db()
    assert member.rolling_spend == Decimal("3000.00")


def test_recalculate_all_tiers_lowers_tiers_as_purchases_age_out():
    gold = _member("13900139001")
    silver = _member("13900139002")
    now = clock.now()
    _buy(gold, "12000.00", "g", when=now - timedelta(days=300))
    _buy(silver, "3100.00", "s", when=now - timedelta(days=5))

    changed = recalculate_all_tiers(now=now + timedelta(days=100))

    assert changed == 1
    gold.refresh_from_db()
    silver.refresh_from_db()
    assert gold.tier.code == "standard"
    assert gold.rolling_spend == Decimal(0)
    assert silver.tier.code == "silver"
    # The nightly run leaves the same trail as a purchase: customer service sees the drop.
    entry = AuditEntry.objects.filter(action="member.tier_changed", subject_id=str(gold.pk)).latest(
        "pk"
    )
    assert entry.changes == {"tier": ["gold", "standard"], "rolling_spend": ["12000.00", "0.00"]}
    assert (entry.actor_kind, entry.actor_label) == ("system", "tiers")
    assert entry.subject_repr == str(gold)
    assert AuditEntry.objects.filter(action="member.tier_changed").count() == 3  # 2 up, 1 down


def test_record_purchases_bulk_skips_known_keys_and_updates_tiers():
    one = _member("13900139003")
    two = _member("13900139004")
    _buy(one, "100.00", "b1")
    now = clock.now()
    rows = [
        PurchaseRow(one.pk, "store", None, "b1", "test:b1", Decimal("100.00"), now),
        PurchaseRow(one.pk, "store", None, "b2", "test:b2", Decimal("9950.00"), now),
        PurchaseRow(two.pk, "store", None, "b3", "test:b3", Decimal("3000.00"), now),
    ]

    with transaction.atomic():
        record_purchases_bulk(rows=rows, now=now)
    with transaction.atomic():
        record_purchases_bulk(rows=rows, now=now)

    assert MemberPurchase.objects.count() == 3
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.tier.code, one.rolling_spend) == ("gold", Decimal("10050.00"))
    assert (two.tier.code, two.rolling_spend) == ("silver", Decimal("3000.00"))
    # Audited as on the live path, once (the replay changed no tier).
    entries = {
        int(e.subject_id): (e.changes, e.subject_repr)
        for e in AuditEntry.objects.filter(action="member.tier_changed")
    }
    assert entries == {
        one.pk: (
            {"tier": ["standard", "gold"], "rolling_spend": ["100.00", "10050.00"]},
            str(one),
        ),
        two.pk: ({"tier": ["standard", "silver"], "rolling_spend": ["0.00", "3000.00"]}, str(two)),
    }


def test_record_purchases_bulk_uses_few_queries(django_assert_max_num_queries):
    members = [_member(f"1390013910{i}") for i in range(5)]
    now = clock.now()
    rows = [
        PurchaseRow(m.pk, "store", None, f"q{i}", f"test:q{i}", Decimal("10.00"), now)
        for i, m in enumerate(members)
    ]

    with transaction.atomic(), django_assert_max_num_queries(8):
        record_purchases_bulk(rows=rows, now=now)

    assert all(m.rolling_spend == Decimal("10.00") for m in Member.objects.all())


def test_progress_to_the_next_tier_is_a_share_of_the_gap():
    member = _member()
    _buy(member, "4750.00", "p1")

    summary = member_summary(member.pk)

    assert summary is not None
    assert summary.progress.current.code == "silver"
    assert summary.progress.next is not None
    assert summary.progress.next.code == "gold"
    assert summary.progress.to_next == Decimal("5250.00")
    assert summary.progress.percent == 25


def test_window_start_is_twelve_calendar_months_back():
    tz = ZoneInfo("Asia/Shanghai")
    assert window_start(datetime(2028, 2, 29, 12, tzinfo=tz)) == datetime(
        2027, 2, 28, 12, tzinfo=tz
    )
    assert window_start(datetime(2026, 11, 27, tzinfo=tz)) == datetime(2025, 11, 27, tzinfo=tz)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_ten_purchases_landing_at_once_all_count_toward_the_tier(race_database):
    from tests.races import run_together

    member = _member("13900139099")

    run_together(10, lambda i: _buy(member, "400.00", f"race-{i}"))

    member.refresh_from_db()
    assert MemberPurchase.objects.filter(member=member).count() == 10
    assert member.rolling_spend == Decimal("4000.00")
    assert member.tier.code == "silver"
