"""Points in the back office: the ledger (read-only), adjustments, holds, earning rules,
the liability report (chart + CSV), the ledger check command and the periodic tasks."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client

from omnimall.core import clock
from omnimall.core.models import AuditEntry
from omnimall.core.roles import CUSTOMER_SERVICE, MARKETING
from omnimall.members import tasks
from omnimall.members.models import EarnRule, HoldPurpose, HoldState, Member, PointsEntry
from omnimall.members.selectors.points import points_history, points_liability
from omnimall.members.services import points
from tests.catalog.factories import make_category
from tests.members.test_points_factories import ACTOR, give_points, make_member

pytestmark = pytest.mark.django_db

LEDGER = "/admin/members/pointsentry/"
LIABILITY = "/admin/members/pointsentry/liability/"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def staff(role: str) -> Client:
    user = get_user_model().objects.create_user(
        username=f"{role.replace(' ', '-')}-user", password="x", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def test_ledger_list_and_entry_pages_render_read_only(admin_client):
    member = make_member()
    entry = give_points(member, 120, "adm:1:earn")

    listing = admin_client.get(LEDGER, {"q": member.card_number})
    page = admin_client.get(f"{LEDGER}{entry.pk}/change/")

    assert listing.status_code == 200
    assert "adm:1:earn" in listing.content.decode()
    assert LIABILITY in listing.content.decode()
    assert "Adjust points" in listing.content.decode()
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_customer_service_adjusts_points_with_a_reason():
    member = make_member()
    client = staff(CUSTOMER_SERVICE)

    form = client.get(f"{LEDGER}add/")
    missing = client.post(f"{LEDGER}add/", {"member": member.card_number, "points": 50})
    done = client.post(
        f"{LEDGER}add/", {"member": member.phone, "points": 50, "reason": "lost receipt"}
    )

    assert form.status_code == 200
    assert missing.status_code == 200
    assert done.status_code == 302
    member.refresh_from_db()
    assert member.points_available == 50
    entry = PointsEntry.objects.get(member=member)
    assert (entry.kind, entry.reason, entry.actor_kind) == ("adjust", "lost receipt", "user")
    assert AuditEntry.objects.filter(action="points.adjusted").count() == 1


def test_an_adjustment_below_zero_is_refused_on_the_form():
    member = make_member()
    client = staff(CUSTOMER_SERVICE)

    reply = client.post(
        f"{LEDGER}add/", {"member": member.card_number, "points": -5, "reason": "typo"}
    )

    assert reply.status_code == 200
    assert "enough points" in reply.content.decode()
    assert PointsEntry.objects.count() == 0


@pytest.mark.parametrize("typed", ["10000001", "-10000001", "99999999999999999999"])
def test_an_adjustment_beyond_ten_million_points_is_a_form_error(typed):
    member = make_member()
    client = staff(CUSTOMER_SERVICE)

    reply = client.post(
        f"{LEDGER}add/", {"member": member.card_number, "points": typed, "reason": "typo"}
    )

    assert reply.status_code == 200
    assert "10000000" in reply.content.decode()
    assert PointsEntry.objects.count() == 0


def test_marketing_cannot_see_the_ledger_nor_adjust():
    client = staff(MARKETING)

    assert client.get(LEDGER).status_code == 403
    assert client.get(f"{LEDGER}add/").status_code == 403
    assert client.get(LIABILITY).status_code == 403


def test_liability_report_shows_totals_chart_and_csv(admin_client):
    member = make_member()
    now = clock.now()
    give_points(member, 1000, "adm:2:a", now=now)
    give_points(member, 250, "adm:2:b", now=now - timedelta(days=400))
    points.hold_points(
        member_id=member.pk,
        points=200,
        source_key="adm:2:hold",
        purpose=HoldPurpose.CHECKOUT,
        reference="O1",
        actor=ACTOR,
    )
    points.earn_points(
        member_id=member.pk,
        points=300,
        source_key="adm:2:pending",
        document="O2",
        actor=ACTOR,
        pending=True,
    )

    page = admin_client.get(LIABILITY)
    export = admin_client.get(LIABILITY, {"export": "csv"})

    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body
    assert "15.50" in body  # 1550 points outstanding at 100 points to 1 CNY
    assert export["Content-Type"].startswith("text/csv")
    rows = export.content.decode().splitlines()
    assert rows[0] == "bucket,points,value_cny"
    assert rows[-1] == "total,1550,15.50"
    assert "held,200,2.00" in rows
    assert "pending,300,3.00" in rows
    # the 200 held came from the soonest-expiring lot (250 → 50 left)
    liability = points_liability()
    assert [m.points for m in liability.months] == [50, 1000]


def test_staff_release_a_stuck_hold(admin_client):
    member = make_member()
    give_points(member, 100, "adm:3:earn")
    held = points.hold_points(
        member_id=member.pk,
        points=100,
        source_key="adm:3:hold",
        purpose=HoldPurpose.PARTNER,
        reference="P1",
        actor=ACTOR,
    )

    reply = admin_client.post(
        "/admin/members/pointshold/", {"action": "release_selected", "_selected_action": [held.pk]}
    )

    assert reply.status_code == 302
    held.refresh_from_db()
    assert held.state == HoldState.RELEASED
    member.refresh_from_db()
    assert member.points_available == 100


def test_lots_page_and_earn_rule_admin(admin_client):
    member = make_member()
    give_points(member, 10, "adm:4:earn")
    category = make_category("adm-drinks")

    lots = admin_client.get("/admin/members/pointslot/")
    created = admin_client.post(
        "/admin/members/earnrule/add/",
        {"name": "No drinks", "kind": "exclude", "category": category.pk, "multiplier": "1"},
    )
    refused = admin_client.post(
        "/admin/members/earnrule/add/", {"name": "Nothing", "kind": "boost", "multiplier": "2"}
    )

    assert lots.status_code == 200
    assert '<td class="field-entry_document">adm:4:earn</td>' in lots.content.decode()
    assert "earn +10" not in lots.content.decode()  # the entry's __str__
    assert created.status_code == 302
    assert refused.status_code == 200
    assert list(EarnRule.objects.values_list("name", flat=True)) == ["No drinks"]


def test_check_points_ledger_passes_then_reports_a_mismatch():
    member = make_member()
    give_points(member, 10, "adm:5:earn")
    out = StringIO()

    call_command("check_points_ledger", stdout=out)
    assert "Points ledger OK" in out.getvalue()

    Member.objects.filter(pk=member.pk).update(points_available=11)
    with pytest.raises(CommandError):
        call_command("check_points_ledger", stdout=out)
    assert f"MISMATCH member {member.pk}" in out.getvalue()


def test_tasks_expire_points_and_release_lapsed_holds():
    member = make_member()
    give_points(member, 40, "adm:6:old", now=clock.now() - timedelta(days=800))
    give_points(member, 60, "adm:6:new")
    held = points.hold_points(
        member_id=member.pk,
        points=10,
        source_key="adm:6:till",
        purpose=HoldPurpose.POS,
        reference="R1",
        actor=ACTOR,
        expires_at=clock.now() - timedelta(minutes=1),
    )

    assert tasks.release_expired_holds_task.delay().get() == 1
    assert tasks.expire_points_task.delay().get() == 0  # the hold expired the old lot first

    held.refresh_from_db()
    assert held.state == HoldState.EXPIRED
    member.refresh_from_db()
    assert member.points_available == 60
    kinds = [line.kind for line in points_history(member.pk)]
    assert kinds == ["release", "hold", "expire", "earn", "earn"]


def test_tier_and_nonce_tasks_call_their_services():
    make_member()

    assert tasks.recalculate_tiers_task.delay().get() == 0
    assert tasks.purge_partner_nonces_task.delay().get() == 0


@pytest.mark.parametrize("url", ["/admin/members/pointsentry/", "/admin/members/pointslot/"])
def test_points_lists_find_a_member_by_mobile_in_any_form_or_grouped_card(admin_client, url):
    member = make_member()
    other = make_member()
    give_points(member, 10, "adm:find:a")
    give_points(other, 20, "adm:find:b")
    national = member.phone.removeprefix("+86")
    card = member.card_number
    typed = [
        f"{national[:3]} {national[3:7]} {national[7:]}",
        f"+86 {national[:3]}-{national[3:7]}-{national[7:]}",
        f"{card[:4]} {card[4:8]} {card[8:]}",
    ]

    found = [admin_client.get(url, {"q": term}).content.decode() for term in typed]

    for term, body in zip(typed, found, strict=True):
        assert f">{member.card_number}</a>" in body, term
        assert f">{other.card_number}</a>" not in body, term
