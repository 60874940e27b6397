"""Hypothesis: any sequence of points operations keeps the ledger sound.

After every step, for every member: cached balances == sums of the ledger entries, all
≥ 0, open lots == available, held == the holds still held. Each step also checks its own
effect on the balances (a refused step changes nothing, a replayed source key posts
nothing). Each example runs in a savepoint that is rolled back at its end.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from omnimall.core import clock
from omnimall.core.errors import DomainError
from omnimall.members.models import HoldPurpose, HoldState, Member, PointsEntry, PointsHold
from omnimall.members.selectors.points import held_mismatches, ledger_mismatches
from omnimall.members.services import points
from omnimall.members.services.points import HoldNotHeldError, InsufficientPointsError
from tests.members.test_points_factories import ACTOR, make_member

pytestmark = pytest.mark.django_db

amounts = st.integers(min_value=1, max_value=500)
_runs = itertools.count(1)


class PointsMachine(RuleBasedStateMachine):
    earns = Bundle("earns")
    holds = Bundle("holds")
    keys = Bundle("keys")

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.members = [make_member(), make_member()]
        self.run = next(_runs)
        self.n = itertools.count(1)
        self.now = clock.now()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers ---------------------------------------------------------------------------

    def key(self, kind: str) -> str:
        return f"m{self.run}:{next(self.n)}:{kind}"

    def balances(self, member: Member) -> tuple[int, int, int]:
        row = Member.objects.values_list("points_available", "points_held", "points_pending").get(
            pk=member.pk
        )
        return row[0], row[1], row[2]

    def spendable(self, member: Member) -> int:
        """Available points in lots not yet expired at the machine's clock, plus what
        lapsed holds will give back into such lots (a spend releases them first)."""
        alive = dict(
            member.points_lots.filter(expires_at__gt=self.now).values_list("pk", "remaining")
        )
        lapsed = PointsHold.objects.filter(
            member=member, state=HoldState.HELD, expires_at__lte=self.now
        )
        back = sum(
            count for hold in lapsed for lot_id, count in hold.lots.items() if int(lot_id) in alive
        )
        return sum(alive.values()) + back

    # --- operations --------------------------------------------------------------------------

    @rule(target=earns, who=st.integers(0, 1), n=amounts, pending=st.booleans())
    def earn(self, who: int, n: int, pending: bool) -> str:
        member = self.members[who]
        a, h, p = self.balances(member)
        key = self.key("earn")
        points.earn_points(
            member_id=member.pk,
            points=n,
            source_key=key,
            document="doc",
            actor=ACTOR,
            pending=pending,
            now=self.now,
        )
        assert self.balances(member) == ((a, h, p + n) if pending else (a + n, h, p))
        return key

    @rule(earn=earns)
    def mature(self, earn: str) -> None:
        points.mature_points(earn_source_key=earn, source_key=self.key("mature"), actor=ACTOR)

    @rule(target=keys, who=st.integers(0, 1), n=amounts)
    def spend(self, who: int, n: int) -> str:
        member = self.members[who]
        can = self.spendable(member) >= n
        key = self.key("spend")
        try:
            points.spend_points(
                member_id=member.pk,
                points=n,
                source_key=key,
                document="doc",
                actor=ACTOR,
                now=self.now,
            )
        except InsufficientPointsError:
            assert not can
        else:
            assert can
        return key

    @rule(target=holds, who=st.integers(0, 1), n=amounts, till=st.booleans())
    def hold(self, who: int, n: int, till: bool) -> int:
        member = self.members[who]
        a, h, p = self.balances(member)
        try:
            held = points.hold_points(
                member_id=member.pk,
                points=n,
                source_key=self.key("hold"),
                purpose=HoldPurpose.POS if till else HoldPurpose.CHECKOUT,
                reference="R",
                actor=ACTOR,
            )
        except InsufficientPointsError:
            assert a < n
            assert self.balances(member) == (a, h, p)
            return 0
        assert self.balances(member) == (a - n, h + n, p)
        return held.pk

    @rule(hold_id=holds)
    def commit(self, hold_id: int) -> None:
        if not hold_id:
            return
        hold = PointsHold.objects.get(pk=hold_id)
        a, h, p = self.balances(hold.member)
        try:
            points.commit_hold(hold_id=hold_id, source_key=self.key("commit"), actor=ACTOR)
        except HoldNotHeldError:
            assert hold.state != HoldState.HELD
            assert self.balances(hold.member) == (a, h, p)
        else:
            assert hold.state == HoldState.HELD
            assert self.balances(hold.member) == (a, h - hold.points, p)

    @rule(hold_id=holds)
    def release(self, hold_id: int) -> None:
        if not hold_id:
            return
        hold = PointsHold.objects.get(pk=hold_id)
        a, h, p = self.balances(hold.member)
        try:
            points.release_hold(hold_id=hold_id, actor=ACTOR)
        except HoldNotHeldError:
            assert hold.state == HoldState.COMMITTED
        else:
            if hold.state == HoldState.HELD:
                assert self.balances(hold.member) == (a + hold.points, h - hold.points, p)
            else:
                assert self.balances(hold.member) == (a, h, p)

    @rule(days=st.integers(0, 400))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    @rule()
    def expire(self) -> None:
        points.expire_points(now=self.now)
        for member in self.members:
            overdue = member.points_lots.filter(remaining__gt=0, expires_at__lte=self.now)
            assert not overdue.exists()

    @rule()
    def release_lapsed_holds(self) -> None:
        points.release_expired_holds(now=self.now)

    @rule(target=keys, earn=earns, n=amounts)
    def reverse(self, earn: str, n: int) -> str:
        key = self.key("reverse")
        points.reverse_earn(
            earn_source_key=earn, points=n, source_key=key, document="doc", actor=ACTOR
        )
        return key

    @rule(who=st.integers(0, 1), n=amounts)
    def restore(self, who: int, n: int) -> None:
        member = self.members[who]
        a, h, p = self.balances(member)
        points.restore_points(
            member_id=member.pk, points=n, source_key=self.key("restore"), document="d", actor=ACTOR
        )
        assert self.balances(member) == (a + n, h, p)

    @rule(who=st.integers(0, 1), n=st.integers(-500, 500).filter(bool))
    def adjust(self, who: int, n: int) -> None:
        member = self.members[who]
        a, h, p = self.balances(member)
        try:
            points.adjust_points(member_id=member.pk, points=n, reason="test", actor=ACTOR)
        except InsufficientPointsError:
            assert a + n < 0
            assert self.balances(member) == (a, h, p)
        else:
            assert self.balances(member) == (a + n, h, p)

    @rule(who=st.integers(0, 1), n=amounts)
    def transfer_in(self, who: int, n: int) -> None:
        member = self.members[who]
        points.transfer_in(
            member_id=member.pk, points=n, source_key=self.key("in"), document="P", actor=ACTOR
        )

    @rule(key=consumes(keys), n=amounts)
    def replay(self, key: str, n: int) -> None:
        """A retried write posts nothing: same answer, or a conflict, never a new entry."""
        entry = PointsEntry.objects.filter(source_key=key).first()
        before = [self.balances(m) for m in self.members]
        count = PointsEntry.objects.count()
        if entry is not None and entry.kind == "spend":
            again = points.spend_points(
                member_id=entry.member_id,
                points=-entry.available_delta,
                source_key=key,
                document="doc",
                actor=ACTOR,
                now=self.now,
            )
            assert again.pk == entry.pk
        try:
            points.spend_points(
                member_id=self.members[0].pk,
                points=n,
                source_key=key,
                document="doc",
                actor=ACTOR,
                now=self.now,
            )
        except DomainError:
            pass
        else:
            assert entry is None or entry.kind == "spend"
        if entry is not None:
            assert PointsEntry.objects.count() == count
            assert [self.balances(m) for m in self.members] == before

    # --- the invariants --------------------------------------------------------------------------

    @invariant()
    def ledger_is_sound(self) -> None:
        ids = [m.pk for m in self.members]
        assert ledger_mismatches(member_ids=ids) == []
        assert not set(held_mismatches()) & set(ids)
        for member in self.members:
            assert min(self.balances(member)) >= 0


def test_any_sequence_of_points_operations_keeps_the_ledger_sound():
    run_state_machine_as_test(
        PointsMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
