"""Points reads: history, ledger checks, the liability by expiry month (query counts pinned)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from omnimall.core import clock
from omnimall.members.domain import add_months
from omnimall.members.models import Member
from omnimall.members.selectors.points import (
    ledger_mismatches,
    points_history,
    points_liability,
)
from tests.members.test_points_factories import give_points, make_member

pytestmark = pytest.mark.django_db


def test_points_history_lists_the_latest_entries_first_in_one_query(django_assert_num_queries):
    member = make_member()
    for i in range(5):
        give_points(member, 10 + i, f"sel:1:{i}")

    with django_assert_num_queries(1):
        lines = points_history(member.pk, limit=3)

    assert [line.available_delta for line in lines] == [14, 13, 12]
    assert lines[0].kind == "earn"


def test_ledger_mismatches_finds_cached_and_lot_drift_in_one_query(django_assert_num_queries):
    sound, drifted, lots_off = make_member(), make_member(), make_member()
    for member in (sound, drifted, lots_off):
        give_points(member, 50, f"sel:2:{member.pk}")
    Member.objects.filter(pk=drifted.pk).update(points_pending=5)
    lots_off.points_lots.update(remaining=49)

    with django_assert_num_queries(1):
        found = ledger_mismatches()

    assert [m.member_id for m in found] == [drifted.pk, lots_off.pk]
    assert found[0].cached == (50, 0, 5)
    assert found[0].ledger == (50, 0, 0)
    assert found[1].lots == 49
    assert found[1].as_dict()["member_id"] == lots_off.pk


def test_points_liability_values_points_and_groups_lots_by_expiry_month(
    django_assert_num_queries, settings
):
    settings.POINTS_EXPIRY_MONTHS = 12
    now = clock.now()
    a, b = make_member(), make_member()
    give_points(a, 150, "sel:3:a", now=now)
    give_points(b, 50, "sel:3:b", now=now)
    give_points(b, 33, "sel:3:c", now=now - timedelta(days=70))

    with django_assert_num_queries(2):
        liability = points_liability()

    assert (liability.available, liability.held, liability.pending) == (233, 0, 0)
    assert str(liability.value) == "2.33"
    assert [m.points for m in liability.months] == [33, 200]
    expires = timezone.localtime(add_months(now, 12)).date()
    assert liability.months[-1].month == expires.replace(day=1)
    assert str(liability.months[-1].value) == "2.00"
