"""record_sale: one receipt applied once to the stock and points ledgers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from omnimall.inventory.models import MovementKind, StockMovement
from omnimall.members.models import Member, MemberPurchase, PointsEntry, PointsEntryKind
from omnimall.members.selectors.points import ledger_mismatches
from omnimall.pos.errors import (
    HoldReceiptMismatchError,
    InvalidPointsPaymentError,
    ReceiptConflictError,
    UnknownMemberError,
    UnknownSkuError,
)
from omnimall.pos.models import Receipt, ReceiptLine, ReceiptSource, ReceiptState, TillReturn
from omnimall.pos.services import holds, sales
from tests.inventory.factories import level_of
from tests.pos.factories import ACTOR, make_member, make_shop, receipt_body, sale_of

pytestmark = pytest.mark.django_db


def _record(shop, body):
    return sales.record_sale(
        sale=sale_of(body), store_id=shop.store.pk, source=ReceiptSource.API, actor=ACTOR
    )


def _ledgers_ok():
    call_command("check_stock_ledger")
    assert ledger_mismatches() == []


def test_record_sale_sells_stock_and_earns_points_when_a_member_buys():
    shop = make_shop(units=5)
    member = make_member()
    body = receipt_body(
        shop,
        lines=[(shop.skus[0], 2, "50.00"), (shop.skus[1], 1, "30.50")],
        member={"card": member.card_number},
    )

    result = _record(shop, body)

    assert (result.created, result.status) == (True, "created")
    receipt = Receipt.objects.get(pk=result.receipt_id)
    assert receipt.total == Decimal("130.50")
    assert receipt.member_id == member.pk
    assert receipt.points_earned == 130  # 1 point per CNY, rounded down per line
    assert list(receipt.lines.values_list("points_earned", flat=True)) == [100, 30]
    assert level_of(shop.store, shop.skus[0]).on_hand == 3
    member.refresh_from_db()
    assert member.points_available == 130
    earn = PointsEntry.objects.get(source_key=f"pos:{shop.store.code}:{receipt.number}:earn")
    assert earn.kind == PointsEntryKind.EARN
    purchase = MemberPurchase.objects.get(member=member)
    assert purchase.amount == Decimal("130.50")
    _ledgers_ok()


def test_record_sale_replays_without_writing_when_the_same_receipt_comes_again():
    shop = make_shop()
    member = make_member()
    body = receipt_body(shop, member={"card": member.card_number})
    first = _record(shop, body)

    again = _record(shop, body)

    assert (again.created, again.status, again.receipt_id) == (False, "replayed", first.receipt_id)
    assert Receipt.objects.count() == 1
    assert StockMovement.objects.filter(kind=MovementKind.SALE).count() == 1
    assert PointsEntry.objects.filter(kind=PointsEntryKind.EARN).count() == 1


def test_record_sale_refuses_when_the_same_number_carries_another_payload():
    shop = make_shop()
    body = receipt_body(shop)
    _record(shop, body)
    body["lines"][0]["quantity"] = 2

    with pytest.raises(ReceiptConflictError):
        _record(shop, body)


def test_record_sale_writes_nothing_when_a_sku_is_unknown():
    shop = make_shop()
    body = receipt_body(shop)
    body["lines"].append({"sku": "NOPE-1", "quantity": 1, "unit_price": "1.00"})

    with pytest.raises(UnknownSkuError) as refused:
        _record(shop, body)

    assert refused.value.details["skus"] == ["NOPE-1"]
    assert Receipt.objects.count() == 0
    assert StockMovement.objects.filter(kind=MovementKind.SALE).count() == 0


def test_record_sale_refuses_an_unknown_card():
    shop = make_shop()

    with pytest.raises(UnknownMemberError):
        _record(shop, receipt_body(shop, member={"card": "999999999999"}))

    assert Receipt.objects.count() == 0


def test_record_sale_enrols_a_new_phone_at_the_store():
    shop = make_shop()

    result = _record(shop, receipt_body(shop, member={"phone": "139 0000 1111"}))

    member = Member.objects.get(phone="+8613900001111")
    assert member.joined_store_id == shop.store.pk
    assert Receipt.objects.get(pk=result.receipt_id).member_id == member.pk
    assert member.points_available == 100


def test_record_sale_sells_what_is_there_and_flags_the_shortfall():
    shop = make_shop(units=1)

    result = _record(shop, receipt_body(shop, lines=[(shop.skus[0], 3, "10.00")]))

    assert result.status == "flagged"
    assert result.flags == ("stock_short",)
    receipt = Receipt.objects.get(pk=result.receipt_id)
    assert receipt.flags[0]["lines"] == [{"line_no": 1, "sku": shop.skus[0].code, "short": 2}]
    level = level_of(shop.store, shop.skus[0])
    assert (level.on_hand, level.reserved) == (0, 0)
    assert ReceiptLine.objects.get(receipt=receipt).quantity == 3
    _ledgers_ok()


def test_record_sale_spends_points_and_earns_only_on_the_money_part():
    shop = make_shop()
    member = make_member(points_available=5000)
    body = receipt_body(
        shop,
        lines=[(shop.skus[0], 1, "100.00")],
        member={"phone": member.phone},
        payments=[
            {"method": "points", "amount": "40.00", "points": 4000},
            {"method": "cash", "amount": "60.00"},
        ],
    )

    result = _record(shop, body)

    receipt = Receipt.objects.get(pk=result.receipt_id)
    assert (receipt.points_spent, receipt.points_earned, receipt.state) == (
        4000,
        60,
        ReceiptState.APPLIED,
    )
    member.refresh_from_db()
    assert member.points_available == 5000 - 4000 + 60
    _ledgers_ok()


def test_record_sale_flags_a_late_receipt_whose_points_are_gone():
    shop = make_shop()
    member = make_member(points_available=100)
    body = receipt_body(
        shop,
        member={"card": member.card_number},
        payments=[{"method": "points", "amount": "10.00", "points": 1000}],
    )

    result = _record(shop, body)

    assert result.flags == ("points_unavailable",)
    receipt = Receipt.objects.get(pk=result.receipt_id)
    assert (receipt.state, receipt.points_spent) == (ReceiptState.FLAGGED, 0)
    member.refresh_from_db()
    assert member.points_available == 100 + 90  # nothing spent; earned on the money part
    _ledgers_ok()


def test_record_sale_refuses_points_without_a_member():
    shop = make_shop()
    body = receipt_body(shop, payments=[{"method": "points", "amount": "1.00", "points": 100}])

    with pytest.raises(InvalidPointsPaymentError):
        _record(shop, body)


def test_record_sale_commits_the_till_hold_it_names():
    shop = make_shop()
    member = make_member(points_available=3000)
    body = receipt_body(shop, member={"card": member.card_number})
    hold = holds.place_till_hold(
        store_code=shop.store.code,
        receipt_number=body["receipt_number"],
        phone="",
        card=member.card_number,
        points=2000,
        actor=ACTOR,
    )
    body["payments"] = [
        {"method": "points", "amount": "20.00", "points": 2000, "hold_id": hold.hold_id},
        {"method": "card", "amount": "80.00"},
    ]

    result = _record(shop, body)

    receipt = Receipt.objects.get(pk=result.receipt_id)
    assert (receipt.points_spent, receipt.points_earned) == (2000, 80)
    member.refresh_from_db()
    assert (member.points_available, member.points_held) == (1000 + 80, 0)
    _ledgers_ok()


def test_record_sale_refuses_another_receipts_hold():
    shop = make_shop()
    member = make_member(points_available=3000)
    hold = holds.place_till_hold(
        store_code=shop.store.code,
        receipt_number="OTHER",
        phone="",
        card=member.card_number,
        points=1000,
        actor=ACTOR,
    )
    body = receipt_body(
        shop,
        member={"card": member.card_number},
        payments=[{"method": "points", "amount": "10.00", "points": 1000, "hold_id": hold.hold_id}],
    )

    with pytest.raises(HoldReceiptMismatchError):
        _record(shop, body)

    assert Receipt.objects.count() == 0


def test_reassign_member_moves_receipts_and_returns():
    shop = make_shop()
    one, two = make_member(), make_member()
    result = _record(shop, receipt_body(shop, member={"card": one.card_number}))

    sales.reassign_member(from_member_id=one.pk, to_member_id=two.pk)

    assert Receipt.objects.get(pk=result.receipt_id).member_id == two.pk
    assert not TillReturn.objects.filter(member=one).exists()


def test_resolve_flagged_receipt_marks_it_applied_and_keeps_the_flags():
    shop = make_shop(units=0)
    result = _record(shop, receipt_body(shop))

    receipt = sales.resolve_flagged_receipt(
        receipt_id=result.receipt_id, actor=ACTOR, note="counted: 1 unit found"
    )

    assert receipt.state == ReceiptState.APPLIED
    assert receipt.flags[0]["resolution"] == "counted: 1 unit found"


def test_record_sale_ignores_safety_stock_and_never_takes_units_held_for_online_orders():
    from omnimall.inventory import services as inventory_services

    shop = make_shop(units=5)
    sku = shop.skus[0]
    inventory_services.set_safety_stock(
        location_id=shop.store.pk, sku_id=sku.pk, safety_stock=3, actor=ACTOR
    )
    inventory_services.reserve_stock(location_id=shop.store.pk, sku_id=sku.pk, quantity=1)

    result = _record(shop, receipt_body(shop, lines=[(sku, 5, "10.00")]))

    assert result.flags == ("stock_short",)
    level = level_of(shop.store, sku)
    assert (level.on_hand, level.reserved) == (1, 1)  # the online hold keeps its unit
    _ledgers_ok()


def test_record_sale_frees_lapsed_online_holds_before_counting_short():
    from datetime import timedelta

    from omnimall.core import clock
    from omnimall.inventory import services as inventory_services
    from omnimall.inventory.models import Reservation, ReservationState

    shop = make_shop(units=2)
    sku = shop.skus[0]
    inventory_services.reserve_stock(
        location_id=shop.store.pk,
        sku_id=sku.pk,
        quantity=2,
        now=clock.now() - timedelta(hours=1),
        hold_for=timedelta(minutes=15),
    )

    result = _record(shop, receipt_body(shop, lines=[(sku, 2, "10.00")]))

    assert result.status == "created"
    level = level_of(shop.store, sku)
    assert (level.on_hand, level.reserved) == (0, 0)
    assert Reservation.objects.get().state == ReservationState.EXPIRED
    _ledgers_ok()


# --- back office: the flagged receipts list and resolving one ---------------------------


def _staff(role, username, *, stores=()):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from omnimall.core.roles import sync_roles

    sync_roles()
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    for store in stores:
        store.staff.add(user)
    return user


def test_admin_flagged_list_shows_flagged_receipts_and_customer_service_resolves_them(
    client, settings
):
    from omnimall.core import roles

    settings.LANGUAGE_CODE = "en"
    shop = make_shop(units=0)
    flagged = _record(shop, receipt_body(shop))
    client.force_login(_staff(roles.CUSTOMER_SERVICE, "cara"))

    listing = client.get("/admin/pos/receipt/flagged/", HTTP_ACCEPT_LANGUAGE="en")
    changelist = client.get("/admin/pos/receipt/", HTTP_ACCEPT_LANGUAGE="en")
    change = client.get(f"/admin/pos/receipt/{flagged.receipt_id}/change/")
    resolved = client.post(
        f"/admin/pos/receipt/{flagged.receipt_id}/resolve/", {"note": "counted, 1 found"}
    )

    assert listing.status_code == 200
    assert flagged.number in listing.content.decode()
    assert "stock_short" in listing.content.decode()
    assert changelist.status_code == 200
    assert "need attention" in changelist.content.decode()
    assert change.status_code == 200
    assert resolved.status_code == 302
    assert Receipt.objects.get(pk=flagged.receipt_id).state == ReceiptState.APPLIED


def test_admin_store_staff_see_only_their_stores_receipts_and_cannot_resolve(client):
    from omnimall.core import roles

    mine, theirs = make_shop(units=0), make_shop(units=0)
    own = _record(mine, receipt_body(mine))
    other = _record(theirs, receipt_body(theirs))
    client.force_login(_staff(roles.STORE_STAFF, "sam", stores=[mine.store]))

    listing = client.get("/admin/pos/receipt/flagged/")
    other_page = client.get(f"/admin/pos/receipt/{other.receipt_id}/change/")
    resolve = client.post(f"/admin/pos/receipt/{own.receipt_id}/resolve/", {"note": "x"})

    assert listing.status_code == 200
    assert own.number in listing.content.decode()
    assert other.number not in listing.content.decode()
    assert other_page.status_code == 302  # not in their list: the admin says it does not exist
    assert resolve.status_code == 403
    assert Receipt.objects.get(pk=own.receipt_id).state == ReceiptState.FLAGGED


def test_admin_shows_a_flag_s_figures_as_text_not_json(client, settings):
    from omnimall.core import roles

    settings.LANGUAGE_CODE = "en"
    shop = make_shop(units=1)
    sku = shop.skus[0]
    flagged = _record(shop, receipt_body(shop, lines=[(sku, 3, "10.00")]))
    client.force_login(_staff(roles.CUSTOMER_SERVICE, "cara"))

    listing = client.get("/admin/pos/receipt/flagged/").content.decode()
    client.post(f"/admin/pos/receipt/{flagged.receipt_id}/resolve/", {"note": "counted, 2 found"})
    change = client.get(f"/admin/pos/receipt/{flagged.receipt_id}/change/").content.decode()

    assert f"line 1, {sku.code}: 2 unit(s) short" in listing
    assert "&quot;lines&quot;" not in listing
    assert "resolved by cara: counted, 2 found" in change
    assert "&quot;resolution&quot;" not in change


def test_admin_receipts_are_found_by_the_member_s_mobile_in_any_form(admin_client):
    shop = make_shop(units=5)
    member = make_member(phone="+8613812345678")
    mine = _record(shop, receipt_body(shop, member={"phone": member.phone}))
    other = _record(shop, receipt_body(shop))

    listing = admin_client.get(
        "/admin/pos/receipt/", {"q": "138 1234 5678"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert mine.number in listing
    assert other.number not in listing
    assert "mobile (in any usual form)" in listing  # the search box says what it finds


def test_admin_receipt_names_its_payment_methods_and_what_an_older_till_wrote(client, settings):
    from omnimall.core import roles

    settings.LANGUAGE_CODE = "en"
    shop = make_shop()
    body = receipt_body(
        shop, payments=[{"method": "微信", "amount": "60.00"}, {"method": "cash", "amount": "40"}]
    )
    recorded = _record(shop, body)
    # Recorded before methods were codes, then turned into codes by the migration.
    Receipt.objects.filter(pk=recorded.receipt_id).update(
        payments=[
            {"method": "wechat", "amount": "60.00"},
            {"method": "other", "amount": "40.00", "method_as_written": "IOU"},
        ]
    )
    client.force_login(_staff(roles.CUSTOMER_SERVICE, "cara"))

    english = client.get(
        f"/admin/pos/receipt/{recorded.receipt_id}/change/", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert english.status_code == 200
    html = english.content.decode()
    assert "<div>WeChat Pay 60.00</div>" in html
    assert "<div>other (IOU) 40.00</div>" in html
