"""The batch path: receipts in bulk, each with exactly the outcome record_sale gives it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnimall.inventory.models import StockLevel, StockLocation, StockMovement
from omnimall.members.models import (
    EarnRule,
    EarnRuleKind,
    Member,
    MemberPurchase,
    PointsEntry,
    PointsLot,
    PurchaseChannel,
)
from omnimall.members.selectors.points import ledger_mismatches
from omnimall.members.services import points, purchases
from omnimall.pos.models import Receipt, ReceiptLine, ReceiptSource
from omnimall.pos.services import sales
from omnimall.pos.services.batch import BatchReport, ingest_receipts
from omnimall.pos.services.reading import RejectedRow
from tests.pos.factories import (
    ACTOR,
    WHEN,
    make_member,
    make_shop,
    new_phone,
    receipt_body,
    sale_of,
)

pytestmark = pytest.mark.django_db


def _ledgers_ok() -> None:
    call_command("check_stock_ledger", verbosity=0)
    assert ledger_mismatches() == []


def _ingest(items: list[Any], **kwargs: Any) -> BatchReport:
    return ingest_receipts(sales=items, source=ReceiptSource.BATCH, actor=ACTOR, **kwargs)


def _live(items: list[Any]) -> list[tuple[str, str, str]]:
    """Each receipt posted alone through record_sale, in order: (number, status, code)."""
    out = []
    for item in items:
        if isinstance(item, RejectedRow):
            out.append((item.receipt_number, "rejected", item.code))
            continue
        store_id = (
            StockLocation.objects.filter(code=item.store_code).values_list("pk", flat=True).first()
        )
        try:
            result = sales.record_sale(
                sale=item, store_id=store_id, source=ReceiptSource.BATCH, actor=ACTOR
            )
        except Exception as error:
            out.append((item.number, "rejected", getattr(error, "code", "")))
            continue
        code = ",".join(result.flags) if result.status == "flagged" else ""
        out.append((item.number, result.status, code))
    return out


def _snapshot() -> dict[str, Any]:
    """Everything a receipt writes, by natural keys (no ids, no clock times)."""
    return {
        "receipts": sorted(
            Receipt.objects.values_list(
                "store__code",
                "number",
                "occurred_at",
                "member__phone",
                "currency",
                "total",
                "discount_total",
                "payments",
                "points_spent",
                "points_earned",
                "state",
                "flags",
                "source",
                "payload_hash",
            )
        ),
        "lines": sorted(
            ReceiptLine.objects.values_list(
                "receipt__number",
                "line_no",
                "sku__code",
                "sku_code",
                "quantity",
                "unit_price",
                "discount",
                "line_total",
                "points_earned",
                "quantity_returned",
            )
        ),
        "movements": sorted(
            StockMovement.objects.values_list(
                "level__location__code",
                "level__sku__code",
                "kind",
                "quantity",
                "reason",
                "actor_kind",
                "actor_label",
                "reference",
            )
        ),
        "levels": sorted(
            StockLevel.objects.values_list("location__code", "sku__code", "on_hand", "reserved")
        ),
        "entries": sorted(
            PointsEntry.objects.values_list(
                "source_key",
                "member__phone",
                "kind",
                "available_delta",
                "held_delta",
                "pending_delta",
                "document",
                "reason",
                "actor_kind",
                "actor_label",
            )
        ),
        "lots": sorted(
            PointsLot.objects.values_list(
                "entry__source_key", "member__phone", "points", "remaining"
            )
        ),
        "members": sorted(
            Member.objects.values_list(
                "phone",  # not the card: an enrolled member's card number is random
                "points_available",
                "points_held",
                "points_pending",
                "tier__code",
                "rolling_spend",
                "joined_store__code",
            )
        ),
        "purchases": sorted(
            MemberPurchase.objects.values_list(
                "source_key", "member__phone", "channel", "store__code", "document", "amount"
            )
        ),
    }


def _scenario() -> tuple[list[Any], dict[str, Any]]:
    """A day of receipts with everything unusual a store uploads."""
    shop = make_shop(units=6, skus=3, code="s-batch")
    other = make_shop(units=6, skus=1, code="s-other")
    plain, loyal, climber = make_member(), make_member(points_available=500), make_member()
    purchases.record_purchase(
        member_id=climber.pk,
        channel=PurchaseChannel.ONLINE,
        store_id=None,
        document="earlier",
        source_key="test:climber:earlier",
        amount=Decimal("2950.00"),
        occurred_at=WHEN,
        actor=ACTOR,
    )
    EarnRule.objects.create(
        name="double on the shop's product",
        kind=EarnRuleKind.BOOST,
        multiplier=Decimal("2"),
        category=shop.skus[2].product.category,
    )
    a, b, c = shop.skus
    bodies = [
        receipt_body(shop, number="R1", lines=[(a, 1, "10.00"), (b, 2, "5.50")]),
        receipt_body(
            shop, number="R2", lines=[(c, 1, "99.90")], member={"card": plain.card_number}
        ),
        receipt_body(shop, number="R3", lines=[(a, 1, "12.00")], member={"phone": loyal.phone}),
        # climber crosses into silver with R4; R5 earns at the silver rate
        receipt_body(shop, number="R4", lines=[(b, 1, "60.00")], member={"phone": climber.phone}),
        receipt_body(
            shop, number="R5", lines=[(b, 1, "100.00")], member={"card": climber.card_number}
        ),
        # a new phone: enrolled at the store
        receipt_body(shop, number="R6", lines=[(c, 1, "20.00")], member={"phone": new_phone()}),
        # an unknown card: refused
        receipt_body(shop, number="R7", lines=[(a, 1, "1.00")], member={"card": "000000000000"}),
        # paid partly with points
        receipt_body(
            shop,
            number="R8",
            lines=[(a, 1, "30.00")],
            member={"card": loyal.card_number},
            payments=[
                {"method": "points", "amount": "2.00", "points": 200},
                {"method": "cash", "amount": "28.00"},
            ],
        ),
        # more than the store has: sold what there is, flagged
        receipt_body(shop, number="R9", lines=[(c, 9, "1.00")]),
        # an unknown SKU
        {
            **receipt_body(shop, number="R10"),
            "lines": [{"sku": "NOPE", "quantity": 1, "unit_price": "1"}],
        },
        # the same receipt again (a replay), then with other contents (a conflict)
        receipt_body(shop, number="R1", lines=[(a, 1, "10.00"), (b, 2, "5.50")]),
        receipt_body(shop, number="R1", lines=[(a, 1, "11.00")]),
        # another store in the same file; an unknown store
        receipt_body(
            other,
            number="R1",
            lines=[(other.skus[0], 2, "8.00")],
            member={"card": plain.card_number},
        ),
        receipt_body(shop, number="R11", store="nowhere"),
        # fully discounted: no points
        {
            **receipt_body(shop, number="R12", member={"card": plain.card_number}),
            "lines": [{"sku": a.code, "quantity": 1, "unit_price": "5.00", "discount": "5.00"}],
            "payments": [],
        },
        receipt_body(shop, number="R13", lines=[(b, 1, "7.00")], member={"phone": plain.phone[3:]}),
        # paid less than its total: refused, though otherwise ordinary
        {
            **receipt_body(shop, number="R14", member={"card": plain.card_number}),
            "payments": [{"method": "cash", "amount": "1.00"}],
        },
    ]
    items: list[Any] = [sale_of(body) for body in bodies]
    items.insert(3, RejectedRow(4, "s-batch", "BAD", "invalid_receipt", "lines: too short"))
    return items, {"shop": shop, "loyal": loyal, "climber": climber, "plain": plain}


@pytest.mark.parametrize("chunk", [500, 3])
def test_ingest_receipts_gives_exactly_what_posting_each_receipt_gives(chunk):
    items, _ = _scenario()
    with transaction.atomic():
        expected_results = _live(items)
        expected = _snapshot()
        transaction.set_rollback(True)

    report = _ingest(items, chunk=chunk)

    got = [(r.receipt_number, r.status, r.code) for r in report.results]
    assert got == expected_results
    assert _snapshot() == expected
    _ledgers_ok()


def test_ingest_receipts_writes_ordinary_receipts_in_bulk():
    items, people = _scenario()

    report = _ingest(items)

    assert report.bulk >= 5
    assert report.counts() == {
        "created": 10,
        "replayed": 1,
        "flagged": 1,
        "rejected": 6,
        "total": 18,
    }
    climber = Member.objects.get(pk=people["climber"].pk)
    assert climber.tier.code == "silver"
    # Every SKU is boosted ×2: R4 at the standard rate (2 × 60), R5 at silver's 1.25 (2 × 125)
    assert climber.points_available == 370
    r2 = Receipt.objects.get(number="R2", store__code="s-batch")
    assert r2.points_earned == 199  # the boosted SKU: 99.90 × 2, rounded down
    _ledgers_ok()


def test_ingest_receipts_replays_a_whole_file_without_writing_twice():
    items, _ = _scenario()
    _ingest(items)
    before = _snapshot()

    again = _ingest(items)

    assert again.created == again.flagged == 0
    assert again.replayed == 12  # each applied receipt once, the replay in the file too
    assert _snapshot() == before


def test_ingest_receipts_keeps_only_counts_and_reports_each_result_when_asked():
    shop = make_shop(units=100, skus=1)
    items = [sale_of(receipt_body(shop, number=f"N{i}")) for i in range(7)]
    seen = []
    ticks = []

    report = _ingest(
        items, chunk=3, keep_results=False, on_result=seen.append, progress=ticks.append
    )

    assert report.results == []
    assert report.created == 7
    assert [r.receipt_number for r in seen] == [f"N{i}" for i in range(7)]
    assert sum(ticks) == 7
    assert StockLevel.objects.get(sku=shop.skus[0]).on_hand == 93
    _ledgers_ok()


def test_ingest_receipts_goes_the_live_way_when_a_till_posted_a_receipt_meanwhile(monkeypatch):
    shop = make_shop(units=10, skus=1)
    member = make_member()
    bodies = [
        receipt_body(shop, number=f"M{i}", member={"card": member.card_number}) for i in range(3)
    ]
    bodies[1]["member"] = None
    del bodies[1]["member"]
    items = [sale_of(body) for body in bodies]
    from omnimall.pos.services.batch import ingest

    real = ingest.read_window

    def read_then_till_posts(sales_):
        window = real(sales_)
        sales.record_sale(sale=items[1], store_id=shop.store.pk, source="api", actor=ACTOR)
        return window

    monkeypatch.setattr(ingest, "read_window", read_then_till_posts)

    report = _ingest(items)

    assert [r.status for r in report.results] == ["created", "replayed", "created"]
    assert (report.live, report.bulk) == (2, 1)  # the stale segment went live, then M2 bulk
    assert Receipt.objects.filter(store=shop.store).count() == 3
    assert (
        StockMovement.objects.filter(reference__startswith=f"pos:{shop.store.code}:").count() == 3
    )
    _ledgers_ok()


# --- any day of receipts: the batch gives what posting them one by one gives --------------

_MEMBER_REFS = ("none", "card_a", "phone_a", "phone_b_local", "new_phone", "unknown_card")


@st.composite
def _days(draw):
    receipts = []
    for i in range(draw(st.integers(1, 10))):
        if receipts and draw(st.booleans()) and draw(st.booleans()):
            number, lines, member, points = draw(st.sampled_from(receipts))
            if draw(st.booleans()):  # the same number with other lines: a conflict
                lines = ((lines[0][0], lines[0][1] + 1),)
        else:
            number = f"H{i}"
            lines = tuple(
                draw(
                    st.lists(
                        st.tuples(st.integers(0, 2), st.integers(1, 4)), min_size=1, max_size=3
                    )
                )
            )
            member = draw(st.sampled_from(_MEMBER_REFS))
            points = member != "none" and draw(st.booleans())
        receipts.append((number, lines, member, points))
    return receipts, draw(st.integers(1, 4))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(day=_days())
def test_any_day_of_receipts_gives_exactly_what_posting_each_gives(day):
    specs, chunk = day
    with transaction.atomic():
        shop = make_shop(units=5, skus=3, code="s-any")
        a = make_member(points_available=150)
        b = make_member()
        refs = {
            "none": None,
            "card_a": {"card": a.card_number},
            "phone_a": {"phone": a.phone},
            "phone_b_local": {"phone": b.phone[3:]},
            "new_phone": {"phone": "+8613700000009"},
            "unknown_card": {"card": "111122223333"},
        }
        items = []
        for number, lines, member, points in specs:
            body = receipt_body(
                shop,
                number=number,
                lines=[(shop.skus[sku], quantity, "20.00") for sku, quantity in lines],
                member=refs[member],
            )
            if points:
                total = sum(20 * quantity for _, quantity in lines)
                body["payments"] = [
                    {"method": "points", "amount": "1.00", "points": 100},
                    {"method": "cash", "amount": f"{total - 1}.00"},
                ]
            items.append(sale_of(body))
        with transaction.atomic():
            expected_results = _live(items)
            expected = _snapshot()
            transaction.set_rollback(True)
        with transaction.atomic():
            report = _ingest(items, chunk=chunk)
            got = [(r.receipt_number, r.status, r.code) for r in report.results]
            assert got == expected_results
            assert _snapshot() == expected
            assert ledger_mismatches() == []
            transaction.set_rollback(True)
        transaction.set_rollback(True)


def test_ingest_receipts_goes_the_live_way_when_an_earn_key_is_already_taken():
    shop = make_shop(units=10, skus=1)
    member = make_member()
    points.earn_points(
        member_id=member.pk,
        points=7,
        source_key=f"pos:{shop.store.code}:K1:earn",
        document="imported by hand",
        actor=ACTOR,
        pending=False,
    )
    items = [
        sale_of(receipt_body(shop, number="K1", member={"card": member.card_number})),
        sale_of(receipt_body(shop, number="K2", member={"phone": member.phone})),
    ]
    with transaction.atomic():
        expected_results = _live(items)
        expected = _snapshot()
        transaction.set_rollback(True)

    report = _ingest(items)

    assert [(r.receipt_number, r.status, r.code) for r in report.results] == expected_results
    assert expected_results[0] == ("K1", "rejected", "points_source_conflict")
    assert report.live >= 1
    assert _snapshot() == expected
    _ledgers_ok()
