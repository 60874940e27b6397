"""The points ledger services: balances, lots, holds, idempotency, expiry, merges."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from omnimall.core import clock
from omnimall.members.domain import MAX_POINTS_PER_ENTRY
from omnimall.members.models import (
    HoldPurpose,
    HoldState,
    Member,
    PointsEntry,
    PointsHold,
    PointsLot,
)
from omnimall.members.selectors.points import held_mismatches, ledger_mismatches
from omnimall.members.services import points
from omnimall.members.services.points import (
    HoldNotHeldError,
    InsufficientPointsError,
    InvalidPointsError,
    PointsConflictError,
    PointsReasonRequiredError,
)
from tests.members.test_points_factories import ACTOR, give_points, make_member

pytestmark = pytest.mark.django_db


def balances(member: Member) -> tuple[int, int, int]:
    member.refresh_from_db()
    return member.points_available, member.points_held, member.points_pending


def sound() -> bool:
    return ledger_mismatches() == [] and held_mismatches() == []


def test_earn_points_makes_points_available_in_a_lot_that_expires_later():
    member = make_member()
    now = clock.now()

    entry = give_points(member, 300, "t:1:earn", now=now)

    assert balances(member) == (300, 0, 0)
    lot = PointsLot.objects.get(entry=entry)
    assert (lot.points, lot.remaining) == (300, 300)
    assert lot.expires_at.year == now.year + 2
    assert sound()


def test_earn_points_posts_once_when_the_source_key_repeats():
    member = make_member()

    first = give_points(member, 100, "t:2:earn")
    again = give_points(member, 100, "t:2:earn")

    assert again.pk == first.pk
    assert balances(member) == (100, 0, 0)
    assert PointsEntry.objects.count() == 1


def test_earn_points_refuses_when_a_repeat_carries_another_amount_or_member():
    member, other = make_member(), make_member()
    give_points(member, 100, "t:3:earn")

    with pytest.raises(PointsConflictError) as amount:
        give_points(member, 101, "t:3:earn")
    with pytest.raises(PointsConflictError):
        give_points(other, 100, "t:3:earn")

    assert amount.value.code == "points_source_conflict"
    assert balances(member) == (100, 0, 0)
    assert balances(other) == (0, 0, 0)


def test_earn_points_posts_nothing_for_zero_and_refuses_negative():
    member = make_member()

    assert give_points(member, 0, "t:4:earn") is None
    with pytest.raises(InvalidPointsError):
        give_points(member, -1, "t:4:earn")
    assert PointsEntry.objects.count() == 0


def test_pending_earn_matures_into_available_points_with_a_lot():
    member = make_member()
    give_points(member, 200, "t:5:earn", pending=True)
    assert balances(member) == (0, 0, 200)
    assert PointsLot.objects.count() == 0

    matured = points.mature_points(earn_source_key="t:5:earn", source_key="t:5:mature", actor=ACTOR)
    again = points.mature_points(earn_source_key="t:5:earn", source_key="t:5:mature", actor=ACTOR)

    assert again.pk == matured.pk
    assert balances(member) == (200, 0, 0)
    assert PointsLot.objects.get().remaining == 200
    assert sound()


def test_spend_points_takes_the_soonest_expiring_lots_first():
    member = make_member()
    now = clock.now()
    give_points(member, 100, "t:6:late", now=now)
    give_points(member, 100, "t:6:early", now=now - timedelta(days=300))

    points.spend_points(
        member_id=member.pk, points=150, source_key="t:6:spend", document="R1", actor=ACTOR
    )

    remaining = dict(PointsLot.objects.values_list("entry__source_key", "remaining"))
    assert remaining == {"t:6:early": 0, "t:6:late": 50}
    assert balances(member) == (50, 0, 0)
    assert sound()


def test_spend_points_refuses_when_more_than_available():
    member = make_member()
    give_points(member, 10, "t:7:earn")

    with pytest.raises(InsufficientPointsError) as refused:
        points.spend_points(
            member_id=member.pk, points=11, source_key="t:7:spend", document="", actor=ACTOR
        )

    assert refused.value.code == "insufficient_points"
    assert balances(member) == (10, 0, 0)
    assert sound()


def test_spend_points_expires_overdue_lots_before_spending():
    member = make_member()
    give_points(member, 100, "t:8:old", now=clock.now() - timedelta(days=800))
    give_points(member, 30, "t:8:new")

    with pytest.raises(InsufficientPointsError):
        points.spend_points(
            member_id=member.pk, points=50, source_key="t:8:spend", document="", actor=ACTOR
        )
    points.spend_points(
        member_id=member.pk, points=30, source_key="t:8:spend2", document="", actor=ACTOR
    )

    assert balances(member) == (0, 0, 0)
    assert PointsEntry.objects.filter(kind="expire").count() == 1
    assert sound()


def hold(member: Member, n: int, key: str, **kw):
    return points.hold_points(
        member_id=member.pk,
        points=n,
        source_key=key,
        purpose=kw.pop("purpose", HoldPurpose.CHECKOUT),
        reference=key,
        actor=ACTOR,
        **kw,
    )


def test_hold_then_commit_spends_the_held_points_once():
    member = make_member()
    give_points(member, 100, "t:9:earn")

    held = hold(member, 60, "t:9:hold")
    assert balances(member) == (40, 60, 0)
    assert sum(held.lots.values()) == 60
    entry = points.commit_hold(hold_id=held.pk, source_key="t:9:spend", actor=ACTOR)
    again = points.commit_hold(hold_id=held.pk, source_key="t:9:spend", actor=ACTOR)

    assert again.pk == entry.pk
    assert balances(member) == (40, 0, 0)
    held.refresh_from_db()
    assert held.state == HoldState.COMMITTED
    with pytest.raises(HoldNotHeldError):
        points.commit_hold(hold_id=held.pk, source_key="t:9:other", actor=ACTOR)
    with pytest.raises(HoldNotHeldError):
        points.release_hold(hold_id=held.pk, actor=ACTOR)
    assert sound()


def test_release_hold_puts_points_back_into_their_lots_and_is_idempotent():
    member = make_member()
    first = give_points(member, 50, "t:10:a", now=clock.now() - timedelta(days=10))
    give_points(member, 50, "t:10:b")
    held = hold(member, 70, "t:10:hold")

    released = points.release_hold(hold_id=held.pk, actor=ACTOR, reason="cancelled")
    again = points.release_hold(hold_id=held.pk, actor=ACTOR)

    assert released.state == again.state == HoldState.RELEASED
    assert balances(member) == (100, 0, 0)
    assert PointsLot.objects.get(entry=first).remaining == 50
    assert PointsEntry.objects.filter(kind="release").count() == 1
    with pytest.raises(HoldNotHeldError) as refused:
        points.commit_hold(hold_id=held.pk, source_key="t:10:spend", actor=ACTOR)
    assert refused.value.code == "points_hold_not_held"
    assert sound()


def test_hold_points_refuses_more_than_available_and_replays_by_source_key():
    member = make_member()
    give_points(member, 20, "t:11:earn")

    with pytest.raises(InsufficientPointsError):
        hold(member, 21, "t:11:big")
    first = hold(member, 20, "t:11:hold")
    again = hold(member, 20, "t:11:hold")

    assert again.pk == first.pk
    assert balances(member) == (0, 20, 0)
    with pytest.raises(PointsConflictError):
        hold(member, 5, "t:11:hold")
    assert sound()


def test_till_holds_lapse_and_the_sweeper_releases_them():
    member = make_member()
    give_points(member, 100, "t:12:earn")
    till = hold(member, 30, "t:12:till", purpose=HoldPurpose.POS)
    order = hold(member, 20, "t:12:order")
    assert till.expires_at is not None
    assert order.expires_at is None

    later = clock.now() + timedelta(minutes=31)
    assert points.release_expired_holds(now=later) == 1
    assert points.release_expired_holds(now=later) == 0

    till.refresh_from_db()
    assert till.state == HoldState.EXPIRED
    assert balances(member) == (80, 20, 0)
    assert sound()


def test_commit_hold_refuses_a_lapsed_hold():
    member = make_member()
    give_points(member, 100, "t:13:earn")
    lapsed = hold(member, 30, "t:13:till", expires_at=clock.now() - timedelta(seconds=1))

    with pytest.raises(HoldNotHeldError):
        points.commit_hold(hold_id=lapsed.pk, source_key="t:13:spend", actor=ACTOR)

    assert balances(member) == (70, 30, 0)


def test_commit_hold_as_a_partner_transfer_out():
    member = make_member()
    give_points(member, 100, "t:14:earn")
    held = hold(member, 100, "t:14:hold", purpose=HoldPurpose.PARTNER)

    entry = points.commit_hold(
        hold_id=held.pk, source_key="t:14:out", actor=ACTOR, kind="transfer_out"
    )

    assert entry.kind == "transfer_out"
    assert balances(member) == (0, 0, 0)
    assert sound()


def test_reverse_earn_takes_from_pending_while_pending():
    member = make_member()
    give_points(member, 100, "t:15:earn", pending=True)

    first = points.reverse_earn(
        earn_source_key="t:15:earn", points=40, source_key="t:15:r1", document="", actor=ACTOR
    )
    points.mature_points(earn_source_key="t:15:earn", source_key="t:15:mature", actor=ACTOR)

    assert (first.pending_delta, first.available_delta) == (-40, 0)
    assert balances(member) == (60, 0, 0)
    assert sound()


def test_reverse_earn_never_reverses_more_than_earned_nor_below_zero():
    member = make_member()
    give_points(member, 100, "t:16:earn")
    points.spend_points(
        member_id=member.pk, points=70, source_key="t:16:spend", document="", actor=ACTOR
    )

    entry = points.reverse_earn(
        earn_source_key="t:16:earn", points=100, source_key="t:16:r1", document="", actor=ACTOR
    )
    nothing_left = points.reverse_earn(
        earn_source_key="t:16:earn", points=100, source_key="t:16:r2", document="", actor=ACTOR
    )

    assert entry.available_delta == -30
    assert "shortfall: 70" in entry.reason
    assert balances(member) == (0, 0, 0)
    assert nothing_left is None
    assert sound()


def test_reverse_earn_caps_at_what_was_earned_over_several_returns():
    member = make_member()
    give_points(member, 100, "t:17:earn")

    for i, n in enumerate((30, 30, 60)):
        points.reverse_earn(
            earn_source_key="t:17:earn",
            points=n,
            source_key=f"t:17:r{i}",
            document="",
            actor=ACTOR,
        )

    assert balances(member) == (0, 0, 0)
    assert (
        points.reverse_earn(
            earn_source_key="t:unknown", points=5, source_key="t:17:x", document="", actor=ACTOR
        )
        is None
    )
    assert sound()


def test_restore_points_and_transfer_in_add_available_points_in_new_lots():
    member = make_member()

    points.restore_points(
        member_id=member.pk, points=25, source_key="t:18:restore", document="O1", actor=ACTOR
    )
    points.transfer_in(
        member_id=member.pk, points=75, source_key="t:18:in", document="P1", actor=ACTOR
    )

    assert balances(member) == (100, 0, 0)
    assert PointsLot.objects.filter(member=member).count() == 2
    assert sound()


def test_adjust_points_needs_a_reason_and_never_goes_below_zero():
    member = make_member()

    with pytest.raises(PointsReasonRequiredError):
        points.adjust_points(member_id=member.pk, points=10, reason=" ", actor=ACTOR)
    points.adjust_points(member_id=member.pk, points=10, reason="goodwill", actor=ACTOR)
    with pytest.raises(InsufficientPointsError):
        points.adjust_points(member_id=member.pk, points=-11, reason="error", actor=ACTOR)
    points.adjust_points(member_id=member.pk, points=-10, reason="error", actor=ACTOR)
    with pytest.raises(InvalidPointsError):
        points.adjust_points(member_id=member.pk, points=10**7 + 1, reason="typo", actor=ACTOR)

    assert balances(member) == (0, 0, 0)
    assert sound()


def test_expire_points_expires_each_overdue_lot_once():
    member = make_member()
    old = clock.now() - timedelta(days=800)
    give_points(member, 40, "t:19:a", now=old)
    give_points(member, 60, "t:19:b", now=old)
    give_points(member, 5, "t:19:c")

    assert points.expire_points() == 2
    assert points.expire_points() == 0

    assert balances(member) == (5, 0, 0)
    assert sound()


def test_a_lot_refilled_by_a_released_hold_expires_again():
    member = make_member()
    give_points(member, 40, "t:20:a", now=clock.now() - timedelta(days=700))
    held = hold(member, 15, "t:20:hold")
    later = clock.now() + timedelta(days=60)
    assert points.expire_points(now=later) == 1

    points.release_hold(hold_id=held.pk, actor=ACTOR)
    assert balances(member) == (15, 0, 0)
    assert points.expire_points(now=later) == 1

    keys = sorted(PointsEntry.objects.filter(kind="expire").values_list("source_key", flat=True))
    lot_id = PointsLot.objects.get().pk
    assert keys == [f"expire:lot:{lot_id}", f"expire:lot:{lot_id}:2"]
    assert balances(member) == (0, 0, 0)
    assert sound()


def test_move_history_moves_entries_lots_and_holds_and_recomputes_balances():
    survivor, duplicate = make_member(), make_member()
    give_points(survivor, 10, "t:21:s")
    give_points(duplicate, 100, "t:21:d")
    hold(duplicate, 30, "t:21:hold")

    with transaction.atomic():
        points.move_history(from_member_id=duplicate.pk, to_member_id=survivor.pk)
        Member.objects.filter(pk=duplicate.pk).update(merged_into=survivor, is_active=False)

    assert balances(survivor) == (80, 30, 0)
    assert balances(duplicate) == (0, 0, 0)
    # a write addressed to the duplicate lands on the survivor
    points.spend_points(
        member_id=duplicate.pk, points=80, source_key="t:21:spend", document="", actor=ACTOR
    )
    assert balances(survivor) == (0, 30, 0)
    assert sound()


def test_a_spend_gives_back_lapsed_holds_first():
    member = make_member()
    give_points(member, 100, "t:22:earn")
    lapsed = hold(member, 80, "t:22:till", expires_at=clock.now() - timedelta(seconds=1))

    points.spend_points(
        member_id=member.pk, points=90, source_key="t:22:spend", document="", actor=ACTOR
    )

    lapsed.refresh_from_db()
    assert lapsed.state == HoldState.EXPIRED
    assert balances(member) == (10, 0, 0)
    assert sound()


MOST = MAX_POINTS_PER_ENTRY


@pytest.mark.parametrize("service", ["earn", "earn pending", "spend", "hold", "restore", "in"])
def test_points_services_refuse_more_than_a_billion_points_in_one_entry(service):
    member = make_member()
    give_points(member, 100, "bound:seed")
    calls = {
        "earn": lambda key: points.earn_points(
            member_id=member.pk,
            points=MOST + 1,
            source_key=key,
            document="R1",
            actor=ACTOR,
            pending=False,
        ),
        "earn pending": lambda key: points.earn_points(
            member_id=member.pk,
            points=MOST + 1,
            source_key=key,
            document="O1",
            actor=ACTOR,
            pending=True,
        ),
        "spend": lambda key: points.spend_points(
            member_id=member.pk, points=MOST + 1, source_key=key, document="R1", actor=ACTOR
        ),
        "hold": lambda key: points.hold_points(
            member_id=member.pk,
            points=MOST + 1,
            source_key=key,
            purpose=HoldPurpose.POS,
            reference="R1",
            actor=ACTOR,
        ),
        "restore": lambda key: points.restore_points(
            member_id=member.pk, points=MOST + 1, source_key=key, document="T1", actor=ACTOR
        ),
        "in": lambda key: points.transfer_in(
            member_id=member.pk, points=MOST + 1, source_key=key, document="P1", actor=ACTOR
        ),
    }

    with pytest.raises(InvalidPointsError) as refused:
        calls[service](f"bound:{service}")

    assert "at most 1,000,000,000 points" in refused.value.message
    assert refused.value.details["most"] == MOST
    assert PointsEntry.objects.filter(member=member).count() == 1
    assert not PointsHold.objects.exists()
    assert ledger_mismatches() == []


def test_a_balance_holds_more_points_than_a_32_bit_column():
    member = make_member()

    for n in range(3):  # 3,000,000,000 points: past 2**31 - 1, the PostgreSQL integer
        give_points(member, MOST, f"big:{n}")
    points.spend_points(
        member_id=member.pk, points=MOST, source_key="big:spend", document="R1", actor=ACTOR
    )
    points.hold_points(
        member_id=member.pk,
        points=MOST,
        source_key="big:hold",
        purpose=HoldPurpose.CHECKOUT,
        reference="O1",
        actor=ACTOR,
    )
    give_points(member, MOST, "big:pending", pending=True)
    give_points(member, MOST, "big:pending:2", pending=True)
    give_points(member, MOST, "big:pending:3", pending=True)

    member.refresh_from_db()
    assert (member.points_available, member.points_held, member.points_pending) == (
        MOST,
        MOST,
        3 * MOST,
    )
    assert ledger_mismatches() == []
    assert held_mismatches() == []
