"""Points races: many threads at once, each on its own connection (tests/races.py).

On PostgreSQL the member row lock queues the writers; on SQLite (a file copy of the test
database, ``BEGIN IMMEDIATE``) whole transactions queue. Either way: a balance never goes
below zero, a source key posts once, a hold is claimed once, and the ledger stays exact.
Any error other than the expected refusals escapes ``run_together`` and fails the test.
"""

from __future__ import annotations

from collections import Counter

import pytest

from omnimall.core.errors import DomainError
from omnimall.members.models import HoldPurpose, HoldState, Member, PointsEntry, PointsLot
from omnimall.members.selectors.points import held_mismatches, ledger_mismatches
from omnimall.members.services import points
from tests.members.test_points_factories import ACTOR, give_points, make_member
from tests.races import run_together

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def funded_member(lots: int, each: int) -> Member:
    member = make_member()
    for i in range(lots):
        give_points(member, each, f"race:{member.pk}:earn:{i}", document="seed")
    return member


def test_50_concurrent_spends_of_a_balance_covering_10_let_exactly_10_through(race_database):
    member = funded_member(lots=5, each=20)  # 100 points = 10 spends of 10

    def spend(i: int) -> str:
        try:
            points.spend_points(
                member_id=member.pk,
                points=10,
                source_key=f"race:spend:{i}",
                document=f"R{i}",
                actor=ACTOR,
            )
        except points.InsufficientPointsError as refused:
            return refused.code
        return "spent"

    results = Counter(run_together(50, spend))

    assert results == {"spent": 10, "insufficient_points": 40}
    member.refresh_from_db()
    assert (member.points_available, member.points_held, member.points_pending) == (0, 0, 0)
    assert sum(PointsLot.objects.filter(member=member).values_list("remaining", flat=True)) == 0
    assert PointsEntry.objects.filter(kind="spend").count() == 10
    assert ledger_mismatches() == []


def test_the_same_source_key_20_times_at_once_posts_one_entry(race_database):
    member = make_member()

    def earn(_: int) -> int:
        entry = points.earn_points(
            member_id=member.pk,
            points=70,
            source_key="race:same:earn",
            document="R1",
            actor=ACTOR,
            pending=False,
        )
        return entry.pk

    ids = set(run_together(20, earn))

    assert len(ids) == 1
    member.refresh_from_db()
    assert member.points_available == 70
    assert PointsEntry.objects.filter(source_key="race:same:earn").count() == 1
    assert ledger_mismatches() == []


def test_a_hold_raced_by_commits_releases_and_the_sweeper_ends_one_way(race_database):
    member = funded_member(lots=2, each=50)
    held = points.hold_points(
        member_id=member.pk,
        points=80,
        source_key="race:hold",
        purpose=HoldPurpose.POS,
        reference="R9",
        actor=ACTOR,
    )

    def act(i: int) -> str:
        try:
            if i % 3 == 0:
                points.commit_hold(hold_id=held.pk, source_key=f"race:commit:{i}", actor=ACTOR)
                return "committed"
            if i % 3 == 1:
                points.release_hold(hold_id=held.pk, actor=ACTOR)
                return "released"
            points.release_expired_holds()
        except DomainError as refused:
            return refused.code
        return "swept"

    results = Counter(run_together(21, act))

    held.refresh_from_db()
    member.refresh_from_db()
    if held.state == HoldState.COMMITTED:
        assert results["committed"] == 1
        assert results["released"] == 0
        assert member.points_available == 20
    else:
        assert held.state == HoldState.RELEASED
        assert results["committed"] == 0
        assert member.points_available == 100
    assert member.points_held == 0
    assert ledger_mismatches() == []
    assert held_mismatches() == []


def test_spends_holds_and_earns_on_one_member_at_once_keep_the_ledger_exact(race_database):
    member = funded_member(lots=4, each=25)

    def act(i: int) -> str:
        try:
            if i % 3 == 0:
                points.spend_points(
                    member_id=member.pk,
                    points=15,
                    source_key=f"race:mix:spend:{i}",
                    document="",
                    actor=ACTOR,
                )
            elif i % 3 == 1:
                held = points.hold_points(
                    member_id=member.pk,
                    points=15,
                    source_key=f"race:mix:hold:{i}",
                    purpose=HoldPurpose.CHECKOUT,
                    reference="",
                    actor=ACTOR,
                )
                points.release_hold(hold_id=held.pk, actor=ACTOR)
            else:
                points.earn_points(
                    member_id=member.pk,
                    points=5,
                    source_key=f"race:mix:earn:{i}",
                    document="",
                    actor=ACTOR,
                    pending=False,
                )
        except points.InsufficientPointsError as refused:
            return refused.code
        return "ok"

    run_together(30, act)

    member.refresh_from_db()
    assert member.points_available >= 0
    assert member.points_held == 0
    assert ledger_mismatches() == []
    assert held_mismatches() == []
